"""The `ipx` command line: one entry point for operators, brokers, market makers and analysts."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def _demo(args: argparse.Namespace) -> int:
    from gateway import demo

    demo.run(rounds=args.rounds, seed=args.seed)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ipx", description="IP exchange trading core")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the demo market on the embedded instruments")
    demo.add_argument("--rounds", type=int, default=400, help="quote rounds to simulate")
    demo.add_argument("--seed", type=int, default=7, help="seed of the simulated participants")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
