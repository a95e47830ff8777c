"""The analyst's commands, ``ipx feed``, ``ipx instruments`` and ``ipx chart``, for
``gateway/cli.py`` to mount.

Public functions: :func:`add_subcommands`, :func:`run_feed`, :func:`run_instruments`,
:func:`run_chart`, :func:`connect`, :func:`instruments_table`.

Each command finds the instruments through the snapshot port's directory, so an analyst
needs only the two endpoints (and, on a licensed feed, the server's public key and a
client certificate whose public key the exchange has allowed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import msgspec
import zmq
import zmq.auth

from engine.instruments import Instrument
from marketdata.chart import draw, record
from marketdata.client import ClientCurve, FeedClient
from marketdata.messages import CHANNELS
from marketdata.ticker import aligned, format_price, run_json, run_ticker

DEFAULT_PUB = "tcp://127.0.0.1:5556"
DEFAULT_SNAPSHOT = "tcp://127.0.0.1:5557"
CONNECT_TIMEOUT_S = 5.0


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``feed``, ``instruments`` and ``chart`` to the ``ipx`` parser's subcommands."""
    feed = subparsers.add_parser("feed", help="live ticker of the market-data feed")
    _endpoints(feed)
    feed.add_argument("instruments", nargs="*", help="instrument ids (default: all listed)")
    feed.add_argument("--json", action="store_true", help="stream JSON lines instead")
    feed.add_argument("--channels", default=CHANNELS,
                      help=f"channel letters to subscribe to (default {CHANNELS})")
    feed.add_argument("--seconds", type=float, help="stop after this many seconds")
    feed.add_argument("--count", type=int, help="stop after this many updates")
    feed.set_defaults(run=run_feed)
    listed = subparsers.add_parser("instruments", help="the listed instruments' reference data")
    _endpoints(listed)
    listed.add_argument("--json", action="store_true", help="each instrument as a JSON line")
    listed.set_defaults(run=run_instruments)
    chart = subparsers.add_parser("chart", help="PNG of an instrument's price, volume, depth")
    _endpoints(chart)
    chart.add_argument("instrument")
    chart.add_argument("-o", "--output", type=Path, help="PNG path (default INSTRUMENT.png)")
    chart.add_argument("--seconds", type=float, default=5.0,
                       help="how long to sample live quotes and depth (default 5)")
    chart.set_defaults(run=run_chart)


def _endpoints(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pub", default=DEFAULT_PUB, help="feed PUB endpoint")
    parser.add_argument("--snapshot", default=DEFAULT_SNAPSHOT, help="snapshot endpoint")
    parser.add_argument("--server-key", type=Path,
                        help="the feed's public key certificate (licensed feed)")
    parser.add_argument("--client-cert", type=Path,
                        help="your secret key certificate (licensed feed)")


def connect(ctx: zmq.Context, args: argparse.Namespace, channels: str = CHANNELS) -> FeedClient:
    """A client with the directory loaded; exit with the reason if the feed is silent."""
    curve: ClientCurve | None = None
    if args.server_key or args.client_cert:
        if not (args.server_key and args.client_cert):
            raise SystemExit("a licensed feed needs both --server-key and --client-cert")
        server_public, _ = zmq.auth.load_certificate(args.server_key)
        public, secret = zmq.auth.load_certificate(args.client_cert)
        curve = (public, secret, server_public)
    client = FeedClient(ctx, args.pub, args.snapshot, channels=channels, curve=curve)
    client.request_directory()
    end_polls = int(CONNECT_TIMEOUT_S / 0.05)
    for _ in range(end_polls):
        if client.directory is not None:
            return client
        client.poll(50)
    client.close()
    raise SystemExit(
        f"ipx {args.command}: no answer from the snapshot port {args.snapshot} in "
        f"{CONNECT_TIMEOUT_S:g} s: is the server running, and does a licensed feed know the key?"
    )


def run_feed(args: argparse.Namespace) -> int:
    with zmq.Context() as ctx:
        client = connect(ctx, args, args.channels)
        listed = [i.instrument for i in client.directory]
        for instrument in args.instruments or listed:
            if instrument not in listed:
                raise SystemExit(f"unknown instrument {instrument}; listed: {', '.join(listed)}")
            client.subscribe(instrument)
        try:
            if args.json:
                run_json(client, sys.stdout, args.seconds, args.count)
            else:
                run_ticker(client, sys.stdout, args.seconds, args.count)
        except KeyboardInterrupt:
            pass
        finally:
            client.close()
    return 0


def run_instruments(args: argparse.Namespace) -> int:
    """``ipx instruments``: what the exchange lists, from its snapshot port's directory."""
    with zmq.Context() as ctx:
        client = connect(ctx, args)
        infos = client.directory
        client.close()
    listed = [info.reference for info in infos if info.reference is not None]
    if args.json:
        for instrument in listed:
            print(msgspec.json.encode(instrument).decode())
    else:
        print("\n".join(instruments_table(listed)))
    return 0


def instruments_table(instruments: list[Instrument]) -> list[str]:
    """One aligned row per instrument: the right it conveys and how it trades."""
    rows = [("instrument", "kind", "ip type", "right", "territory", "term", "ccy", "tick",
             "lot", "reference", "regime")]
    for i in instruments:
        term = f"{i.term_start:%Y-%m-%d}..{i.term_end:%Y-%m-%d}"
        rows.append((i.instrument_id, i.kind, i.ip_type, i.right, ",".join(i.territory), term,
                     i.currency, str(i.tick_size), str(i.lot_size),
                     format_price(i.reference_price, i.minor_units), i.regime))
    return aligned(rows)


def run_chart(args: argparse.Namespace) -> int:
    with zmq.Context() as ctx:
        client = connect(ctx, args)
        infos = {i.instrument: i for i in client.directory}
        if args.instrument not in infos:
            raise SystemExit(f"unknown instrument {args.instrument}")
        try:
            rec = record(client, args.instrument, args.seconds)
        finally:
            client.close()
    path = draw(rec, args.output or Path(f"{args.instrument}.png"), infos[args.instrument])
    print(path)
    return 0
