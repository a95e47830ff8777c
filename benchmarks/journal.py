"""Journal cost and replay speed, printed as one JSON line.

- ``orders_per_s_fsync``: the gateway (decode, sequence, journal, apply, build reports; no
  sockets) with the file journal fsyncing every batch, ``batch`` orders per batch (the
  server's ``batch_budget``), in a fresh data directory on the same file system as
  ``--dir``.
- ``orders_per_s_off``: the same with the journal off (``NullJournal``), timed in the same
  run, interleaved with the first; ``ratio`` is fsync over off (median of ``--repeats``).
- ``replay_commands_per_s``: ``ipx replay``'s path (read, CRC-check, decode, ``Core.apply``)
  over the journal the last fsync run wrote; ``replay_with_trade_tree_per_s`` also rebuilds
  the Merkle tree of trades (``ipx replay --trades``, what recovery and ``verify`` do).

The flow: limit orders of 1 to 5 units at the reference price +-5 ticks from two
participants, so about half trade. After timing, the replayed fingerprint must equal the live
one.

    .venv/bin/python benchmarks/journal.py [--orders 100000] [--repeats 3] [--dir PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PARTICIPANTS = ("BENCH-A", "BENCH-B")
INSTRUMENT = "RPU-GUZHENG-CAT"


def _frames(orders: int, seed: int = 7) -> list[tuple[bytes, str, bytes]]:
    from gateway import protocol as p
    from gateway.codec import encode

    rng = random.Random(seed)
    frames = []
    for i in range(orders):
        name = PARTICIPANTS[i % 2]
        side = p.Side.BUY if rng.random() < 0.5 else p.Side.SELL
        msg = p.NewOrder(i + 1, INSTRUMENT, side, rng.randint(1, 5), 4820 + 10 * rng.randint(-5, 5))
        frames.append((name.encode(), name, encode(msg)))
    return frames


def _server(key_dir: Path, data_dir: Path | None, run: int):
    from gateway.config import ServerConfig
    from gateway.journal import NullJournal
    from gateway.server import Server

    config = ServerConfig(
        key_dir=str(key_dir),
        risk_enabled=False,
        throttle_rate=100_000_000,
        throttle_burst=100_000_000,
        data_dir=str(data_dir) if data_dir else "",
        snapshot_every=0,
        sth_interval_ms=3_600_000,
        order_endpoint=f"inproc://orders-{run}",
        admin_endpoint=f"inproc://admin-{run}",
    )
    server = Server(config, journal=None if data_dir else NullJournal())
    server.recover()  # writes the genesis record of the new data directory
    return server


def _run(key_dir: Path, data_dir: Path | None, frames, batch: int, run: int) -> tuple:
    """Orders per second through the gateway; returns (rate, server) for checks."""
    from gateway import protocol as p
    from gateway.codec import encode

    server = _server(key_dir, data_dir, run)
    gateway = server.gateway
    for name in PARTICIPANTS:
        gateway.on_order_frame(name.encode(), name, encode(p.Logon(1, 60_000, False)), 0)
    gateway.process()
    gateway.take_replies()
    on_frame = gateway.on_order_frame
    process = gateway.process
    take = gateway.take_replies
    start = time.perf_counter()
    for i in range(0, len(frames), batch):
        for rid, user, payload in frames[i : i + batch]:
            on_frame(rid, user, payload, 0)
        process()
        take()
    seconds = time.perf_counter() - start
    return len(frames) / seconds, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", help="where the data directories go (default: a temp dir)")
    args = parser.parse_args()

    from gateway.auth import ensure_key_pair
    from gateway.config import SERVER_KEY
    from gateway.recovery import replay_journal

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        ensure_key_pair(root / "keys", SERVER_KEY)
        for name in PARTICIPANTS:
            ensure_key_pair(root / "keys" / "participants", name)
        frames = _frames(args.orders)
        fsync_rates, off_rates = [], []
        server = None
        for repeat in range(args.repeats):
            rate, off = _run(root / "keys", None, frames, args.batch, 2 * repeat)
            off.close()
            off_rates.append(rate)
            if server is not None:
                server.close()
            data_dir = root / f"data-{repeat}"
            rate, server = _run(root / "keys", data_dir, frames, args.batch, 2 * repeat + 1)
            fsync_rates.append(rate)
        live = server.core.fingerprint()
        server.close()
        replay_seconds = tree_seconds = float("inf")
        for _ in range(args.repeats):  # best of the repeats: the first also warms up the caches
            start = time.perf_counter()
            core, _, commands = replay_journal(data_dir / "journal", trades=False)
            replay_seconds = min(replay_seconds, time.perf_counter() - start)
            start = time.perf_counter()
            with_trades, tree, _ = replay_journal(data_dir / "journal")
            tree_seconds = min(tree_seconds, time.perf_counter() - start)
        if not core.fingerprint() == with_trades.fingerprint() == live:
            raise SystemExit("replay did not reach the live fingerprint")
    fsync, off = statistics.median(fsync_rates), statistics.median(off_rates)
    print(json.dumps({
        "orders": args.orders,
        "batch": args.batch,
        "orders_per_s_fsync": round(fsync),
        "orders_per_s_off": round(off),
        "ratio": round(fsync / off, 3),
        "replay_commands": commands,
        "replay_commands_per_s": round(commands / replay_seconds),
        "replay_with_trade_tree_per_s": round(commands / tree_seconds),
        "trades": len(tree),
    }))


if __name__ == "__main__":
    main()
