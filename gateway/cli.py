"""The `ipx` command line: one entry point for operators, brokers, market makers and analysts.

Subcommands: ``serve`` (the exchange server; ``--data-dir`` journals and recovers),
``verify``, ``replay`` and ``receipt`` (a data directory's evidence), ``keys`` (CURVE key
pairs), ``schema`` (the wire protocol's JSON schema), ``order`` (a broker's buy, sell,
cancel, amend, status, its open orders and credit), ``quote`` (a market maker's mass quote),
``admin`` (the operators': :mod:`gateway.admin_cli`), ``feed`` and ``chart`` (the analysts':
:mod:`marketdata.cli`) and ``demo`` (the simulated market over real sockets). Shared output
helpers are in :mod:`gateway.cli_output`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import msgspec

from engine.messages import OrderType, Side, StpMode, TimeInForce
from gateway import protocol as p
from gateway.admin_cli import add_admin_subcommand
from gateway.cli_output import key_dir, show
from marketdata.cli import add_subcommands as add_feed_subcommands

ORDERS = "tcp://127.0.0.1:5555"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


# -- serve ----------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    import zmq

    from gateway.auth import MDATA
    from gateway.config import demo_config, load_config
    from gateway.server import Server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.config:
        try:
            config = load_config(args.config)
        except (OSError, ValueError) as error:  # a missing file, a field misspelt or mistyped
            raise SystemExit(f"ipx serve: {args.config}: {error}") from None
    else:
        config = demo_config(key_dir(args))
        print(f"demo keys in {config.key_dir} (server, admin/ops, participants/*)")
    overrides = {
        "order_endpoint": args.orders,
        "admin_endpoint": args.admin,
        "data_dir": args.data_dir,
        "fsync": args.fsync,
    }
    overrides = {k: v for k, v in overrides.items() if v}
    if args.no_feed:
        overrides["feed_enabled"] = False
    if args.loop_cpu is not None:  # 0 is a core, not "unset"
        overrides["loop_cpu"] = args.loop_cpu
    if overrides:
        config = msgspec.structs.replace(config, **overrides)
    try:
        server = Server(config)
    except ValueError as error:  # a setting this machine cannot honour: say which, no trace
        raise SystemExit(f"ipx serve: {error}") from None
    if config.feed_enabled:
        try:
            from marketdata.publisher import MarketDataPublisher
        except ImportError:
            logging.info("no market-data publisher in this build: feed off")
        else:
            if config.feed_curve:  # licensed data: only registered keys may subscribe
                keys = {**config.participant_keys(), **config.admin_keys()}
                server.authenticator.allow(MDATA, keys)
            try:
                publisher = MarketDataPublisher(
                    server.context,
                    server.core,
                    config.feed_endpoint,
                    config.snapshot_endpoint,
                    curve=server.server_key if config.feed_curve else None,
                )
            except zmq.ZMQError as error:  # say which endpoint is taken, not a traceback
                raise SystemExit(f"ipx serve: market data: {error}") from None
            server.add_sink(publisher)
            logging.info(
                "feed on %s, snapshots on %s%s",
                config.feed_endpoint,
                config.snapshot_endpoint,
                " (CURVE)" if config.feed_curve else "",
            )
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: server.stop())
    threading.Thread(target=_announce, args=(server,), daemon=True).start()
    try:
        server.run()
    except zmq.ZMQError as error:  # an endpoint taken or refused: closed down, said plainly
        raise SystemExit(f"ipx serve: {error}") from None
    logging.info("stopped after %d sequenced commands", server.gateway.seq)
    return 0


def _announce(server) -> None:
    """One stdout line once the server listens: what scripts and supervisors wait for."""
    server.ready.wait()
    if server.error is None:
        print(
            f"ready seq={server.gateway.seq} fingerprint={server.core.fingerprint()} "
            f"orders={server.order_endpoint} admin={server.admin_endpoint}",
            flush=True,
        )


# -- durability and evidence ----------------------------------------------------------------


def _data_dir(args: argparse.Namespace) -> Path:
    """The data directory named, refused unless it holds a journal: a mistyped path would
    otherwise verify as an empty and unaltered record."""
    from gateway.wal import segments

    root = Path(args.data_dir)
    if not segments(root / "journal"):
        raise SystemExit(f"ipx {args.command}: {root}: no journal here (no {root / 'journal'})")
    return root


def _verify(args: argparse.Namespace) -> int:
    from gateway.audit import verify

    key = bytes.fromhex(args.key) if args.key else None
    report = verify(_data_dir(args), key)
    print(json.dumps(msgspec.to_builtins(report)))
    if not report.ok:
        print(f"ALTERED: {report.problem}", file=sys.stderr)
        return 1
    return 0


def _replay(args: argparse.Namespace) -> int:
    import time

    from gateway.recovery import replay_journal
    from gateway.wal import read_frames

    journal = _data_dir(args) / "journal"
    total = sum(1 for _ in read_frames(journal))
    width = 40

    def progress(done: int) -> None:
        filled = width * done // max(total, 1)
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}", end="",
              file=sys.stderr, flush=True)

    start = time.perf_counter()
    core, tree, commands = replay_journal(journal, progress=progress, trades=args.trades)
    seconds = time.perf_counter() - start
    progress(total)
    print(file=sys.stderr)
    rebuilt = {"trades": len(tree)} if args.trades else {}  # no tree, no count to report
    print(json.dumps({
        "commands": commands,
        "seq": core.last_seq,
        **rebuilt,
        "fingerprint": core.fingerprint(),
        "seconds": round(seconds, 3),
        "commands_per_s": round(commands / seconds) if seconds else 0,
    }))
    return 0


def _receipt(args: argparse.Namespace) -> int:
    from gateway.receipts import Receipt, check_receipt

    if args.check:
        receipt = msgspec.json.decode(Path(args.check).read_bytes(), type=Receipt)
    else:
        if not args.data_dir or args.trade_id is None:
            print("give DATA_DIR and TRADE_ID, or --check FILE", file=sys.stderr)
            return 2
        from gateway.audit import build_receipt

        try:
            receipt = build_receipt(_data_dir(args), args.trade_id, args.old_size)
        except LookupError as error:  # no such trade, or no tree head covering it yet
            raise SystemExit(f"ipx receipt: {error}") from None
        encoded = msgspec.json.encode(receipt)
        if args.out:
            Path(args.out).write_bytes(encoded + b"\n")
        else:
            print(encoded.decode())
    problems = check_receipt(receipt, bytes.fromhex(args.key) if args.key else None)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    if not problems:
        proved = "inclusion" + (" and consistency" if receipt.old_head else "")
        print(f"OK: {proved} verified for leaf {receipt.leaf_index} of tree "
              f"{receipt.head.tree_size}", file=sys.stderr)
    return 1 if problems else 0


# -- keys and schema ------------------------------------------------------------------------


def _keys(args: argparse.Namespace) -> int:
    from gateway.auth import ensure_key_pair

    folder = {"server": Path(), "admin": Path("admin"), "participant": Path("participants")}
    directory = key_dir(args) / folder[args.role]
    for name in args.names:
        pair = ensure_key_pair(directory, name)
        print(f'{name} = "{pair.public.decode()}"  # {directory / name}.key_secret')
    return 0


def _schema(args: argparse.Namespace) -> int:
    from gateway.codec import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


# -- clients --------------------------------------------------------------------------------


def _client(args: argparse.Namespace):
    from gateway.client import Client, participant_keys

    server_key, key = participant_keys(key_dir(args), args.participant)
    client = Client(args.endpoint, server_key, key)
    # A one-shot command must leave its orders in the book when it exits.
    client.logon(cancel_on_disconnect=False)
    return client


def _finish(client, wait_ms: int, last=None) -> int:
    """Print responses until none comes for ``wait_ms``, or until one satisfies ``last``."""
    for msg in client.responses(wait_ms):
        print(show(msg))
        if last is not None and last(msg):
            break
    client.logout()
    client.close()
    return 0


def expiry_ns(text: str) -> int:
    """A GTD expiry given as ISO 8601 local time with an offset (UTC without one), in the
    protocol's integer nanoseconds since the epoch.

    >>> expiry_ns("2026-12-31T16:00:00+08:00"), expiry_ns("1970-01-01T00:00:01.5")
    (1798704000000000000, 1500000000)
    """
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return (when - EPOCH) // dt.timedelta(microseconds=1) * 1_000


def _answer(kind: type, request_id: int):
    """The last response a query waits for: its report of ``kind`` naming ``request_id``."""
    return lambda msg: type(msg) is kind and msg.request_id == request_id


def _order(args: argparse.Namespace) -> int:
    client = _client(args)
    action = args.action
    if action in ("buy", "sell"):
        cl_ord_id = client.new_order(
            args.instrument,
            Side.BUY if action == "buy" else Side.SELL,
            args.qty,
            args.price,
            order_type=OrderType[args.type.upper()],
            tif=TimeInForce[args.tif.upper()],
            stop_price=args.stop_price,
            display_qty=args.display_qty,
            min_qty=args.min_qty,
            post_only=args.post_only,
            stp=StpMode[args.stp.upper()],
            expire_ts=args.expire,
        )
        print(f"sent cl_ord_id {cl_ord_id}", file=sys.stderr)
    elif action == "cancel":
        client.cancel(args.cl_ord_id)
    elif action == "amend":
        client.amend(args.cl_ord_id, args.qty, args.price)
    elif action == "credit":
        request_id = client.credit_status()
        return _finish(client, args.wait, _answer(p.CreditStatusReport, request_id))
    elif action == "open":
        side = {"both": 0, "buy": Side.BUY, "sell": Side.SELL}[args.side]
        request_id = client.mass_status(args.instrument, side)
        return _finish(client, args.wait, _answer(p.MassStatusReport, request_id))
    else:
        client.status(args.cl_ord_id)
        status = p.ExecType.ORDER_STATUS
        return _finish(
            client,
            args.wait,
            lambda msg: type(msg) is p.ExecutionReport and msg.exec_type == status,
        )
    return _finish(client, args.wait)


def _quote(args: argparse.Namespace) -> int:
    values = args.entries
    if len(values) % 5:
        raise SystemExit("quote entries come in fives: INSTRUMENT BID BID_QTY ASK ASK_QTY")
    try:
        entries = [
            p.QuoteEntry(values[i], *(int(v) for v in values[i + 1 : i + 5]))
            for i in range(0, len(values), 5)
        ]
    except ValueError as error:
        raise SystemExit(f"ipx quote: prices and quantities are integers ({error})") from None
    client = _client(args)
    client.mass_quote(entries, mmp_reset=args.mmp_reset)
    return _finish(client, args.wait)


def _codes(args: argparse.Namespace) -> int:
    from engine.codes import reason_table

    for number, name, description in reason_table():
        print(f"{number:>5}  {name:<32} {description}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from gateway import demo

    summary = demo.run(seconds=args.seconds, seed=args.seed)
    return 1 if summary["errors"] else 0


# -- parser ---------------------------------------------------------------------------------


def _client_options(parser: argparse.ArgumentParser, participant: str) -> None:
    parser.add_argument("--participant", "-p", default=participant, help="whose key signs in")
    parser.add_argument("--endpoint", default=ORDERS, help="the server's order endpoint")
    parser.add_argument("--key-dir", help="key directory (default: the demo key directory)")
    parser.add_argument("--wait", type=int, default=500, help="ms to wait for more responses")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ipx", description="IP exchange trading core")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the exchange server")
    serve.add_argument("--config", help="TOML server config (default: demo keys, loopback)")
    serve.add_argument("--key-dir", help="demo key directory when there is no config")
    serve.add_argument("--orders", help="order-entry endpoint, e.g. tcp://127.0.0.1:5555")
    serve.add_argument("--admin", help="admin endpoint, e.g. tcp://127.0.0.1:5558")
    serve.add_argument("--no-feed", action="store_true", help="do not start the market data")
    serve.add_argument("--data-dir", help="journal and snapshots: recovered if present")
    serve.add_argument("--fsync", choices=("batch", "interval", "none"), help="journal policy")
    serve.add_argument("--loop-cpu", type=int,
                       help="run the server loop on this core, libzmq's I/O threads on the others")
    serve.set_defaults(run=_serve)

    keys = commands.add_parser("keys", help="create (or show) CURVE key pairs")
    keys.add_argument("names", nargs="+")
    keys.add_argument("--role", choices=("participant", "admin", "server"), default="participant")
    keys.add_argument("--key-dir", help="key directory (default: the demo key directory)")
    keys.set_defaults(run=_keys)

    schema = commands.add_parser("schema", help="print the protocol's JSON schema")
    schema.set_defaults(run=_schema)

    order = commands.add_parser(
        "order",
        help="a broker's order: buy, sell, cancel, amend, status; its open orders, its credit",
    )
    actions = order.add_subparsers(dest="action", required=True)
    for side in ("buy", "sell"):
        new = actions.add_parser(side)
        new.add_argument("instrument")
        new.add_argument("qty", type=int)
        new.add_argument("price", type=int, nargs="?", default=0, help="minor units; 0 market")
        new.add_argument("--type", default="limit", choices=[t.name.lower() for t in OrderType])
        new.add_argument("--tif", default="day", choices=[t.name.lower() for t in TimeInForce])
        new.add_argument("--stop-price", type=int, default=0,
                         help="trigger on the last trade price (stop, stop_limit)")
        new.add_argument("--display-qty", type=int, default=0, help="iceberg: the visible peak")
        new.add_argument("--min-qty", type=int, default=0,
                         help="trade at least this much on arrival or not at all")
        new.add_argument("--post-only", action="store_true", help="rejected if it would take")
        new.add_argument("--stp", default="none", choices=[m.name.lower() for m in StpMode],
                         help="self-trade prevention when this order takes")
        new.add_argument("--expire", type=expiry_ns, default=0, metavar="ISO_TIME",
                         help="GTD expiry, e.g. 2026-12-31T16:00+08:00 (UTC without offset)")
        _client_options(new, "BRK-SANYA-SEC")
    for name in ("cancel", "status"):
        sub = actions.add_parser(name)
        sub.add_argument("cl_ord_id", type=int)
        _client_options(sub, "BRK-SANYA-SEC")
    listing = actions.add_parser("open", help="every own live order, one status report each")
    listing.add_argument("instrument", nargs="?", default="", help="only this instrument")
    listing.add_argument("--side", default="both", choices=("both", "buy", "sell"))
    _client_options(listing, "BRK-SANYA-SEC")
    credit = actions.add_parser("credit", help="how much of the own credit line is used")
    _client_options(credit, "BRK-SANYA-SEC")
    amend = actions.add_parser("amend")
    amend.add_argument("cl_ord_id", type=int)
    amend.add_argument("qty", type=int, help="new total quantity")
    amend.add_argument("price", type=int)
    _client_options(amend, "BRK-SANYA-SEC")
    order.set_defaults(run=_order)

    quote = commands.add_parser("quote", help="a market maker's two-sided quotes")
    quote.add_argument("entries", nargs="+", help="INSTRUMENT BID BID_QTY ASK ASK_QTY ...")
    quote.add_argument(
        "--mmp-reset", action="store_true", help="lift a market-maker-protection freeze first"
    )
    _client_options(quote, "MM-HAINAN-IP")
    quote.set_defaults(run=_quote)

    add_admin_subcommand(commands)

    verify = commands.add_parser("verify", help="check a data directory's journal and trees")
    verify.add_argument("data_dir")
    verify.add_argument("--key", help="the exchange's tree-head public key (hex) to pin")
    verify.set_defaults(run=_verify)

    replay = commands.add_parser("replay", help="rebuild the state from a journal")
    replay.add_argument("data_dir")
    replay.add_argument("--trades", action="store_true", help="also rebuild the trade tree")
    replay.set_defaults(run=_replay)

    receipt = commands.add_parser("receipt", help="make or check a trade's inclusion receipt")
    receipt.add_argument("data_dir", nargs="?", help="the data directory to prove from")
    receipt.add_argument("trade_id", nargs="?", type=int)
    receipt.add_argument("--old-size", type=int, default=0,
                         help="also prove consistency from the signed head of this size")
    receipt.add_argument("--out", help="write the receipt (JSON) here")
    receipt.add_argument("--check", help="check a receipt file instead")
    receipt.add_argument("--key", help="the exchange's tree-head public key (hex) to pin")
    receipt.set_defaults(run=_receipt)

    codes = commands.add_parser("codes", help="print every reason code with its meaning")
    codes.set_defaults(run=_codes)

    add_feed_subcommands(commands)

    demo = commands.add_parser("demo", help="run the demo market over real sockets")
    demo.add_argument("--seconds", type=float, default=10.0, help="how long the market trades")
    demo.add_argument("--seed", type=int, default=7, help="seed of the simulated participants")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from gateway.client import LogonError
    from gateway.wal import CorruptJournal

    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # the reader left (`ipx codes | head`): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a program its pipe closed
    except (LogonError, OSError) as error:  # no server, a key refused or missing, a file
        raise SystemExit(f"ipx {args.command}: {error}") from None
    except CorruptJournal as error:  # serve, replay and receipt read the journal alike
        raise SystemExit(f"ipx {args.command}: {error}; ipx verify says what changed") from None
