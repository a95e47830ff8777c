"""Order entry end to end: server process, N client processes, CURVE on, real TCP loopback.

Three measurements in one run, printed as one JSON line:

- ``orders_per_s``: saturated throughput. Each client keeps ``--window`` orders in flight
  (sent, not yet acknowledged) until it has sent ``--orders``; the rate is all orders over the
  time from the start signal to the last acknowledgement.
- ``ack_p50_us`` / ``ack_p99_us``: latency from send to the order's first report (NEW or
  REJECTED) at a fixed offered load of ``--rate`` orders/s in total, sent on a schedule
  (open loop), for ``--seconds``.
- ``echo_orders_per_s``: the same saturated client against a bare ROUTER echo server with the
  same sockets, CURVE and ZAP (User-Id read per message), framing and reply size;
  ``ratio_vs_echo`` is ``orders_per_s / echo_orders_per_s``. ``echo_ack_p50_us`` and
  ``echo_ack_p99_us`` are the paced latencies against the echo: the floor set by the
  transport and the machine.

The flow: limit orders of 1 to 5 units at the reference price +-10 ticks, random side, so
about half cross and trade (a fill sends reports to both clients). After the timed runs the
server checks its books (``Core.check``) and reports its counters, which must match.

    .venv/bin/python benchmarks/gateway_roundtrip.py [--clients 2] [--window 200]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BENCH_ID = "BENCH-ULR"
REFERENCE = 100_000


def _make_keys(key_dir: Path, clients: int) -> None:
    from gateway.auth import ensure_key_pair
    from gateway.config import SERVER_KEY

    ensure_key_pair(key_dir, SERVER_KEY)
    for i in range(clients):
        for mode in ("saturate", "paced"):
            ensure_key_pair(key_dir / "participants", f"BENCH-{mode}-{i}")


def _config(key_dir: Path, endpoint: str, admin: str):
    from gateway.config import ServerConfig

    return ServerConfig(
        key_dir=str(key_dir),
        order_endpoint=endpoint,
        admin_endpoint=admin,
        throttle_rate=10_000_000,
        throttle_burst=1_000_000,
        heartbeat_ms=30_000,
    )


ANY_PORT = "tcp://127.0.0.1:*"


def run_server(key_dir: str, ready, done, results) -> None:
    """Server process: the real gateway loop with the benchmark instrument."""
    import threading

    from benchmarks.streams import bench_instrument
    from engine.core import Core
    from gateway.server import Server

    server = Server(_config(Path(key_dir), ANY_PORT, ANY_PORT), core=Core([bench_instrument()]))
    threading.Thread(target=lambda: (done.wait(), server.stop()), daemon=True).start()
    thread = threading.Thread(target=server.run)
    thread.start()
    server.ready.wait(60)
    ready.put(server.order_endpoint)
    thread.join()
    server.core.check()
    book = server.core.book(BENCH_ID)
    results.put(
        {
            "seq": server.gateway.seq,
            "orders": server.gateway.last_order_id,
            "trades": server.core.matcher.last_trade_id,
            "resting": len(book.orders),
        }
    )


def run_echo(key_dir: str, ready, done) -> None:
    """A bare ROUTER echo: the server's socket options, CURVE, ZAP, User-Id read and framing.

    Like the server, it drains a batch and answers each connection with one frame holding
    one reply per request; each reply is a real NEW report of the same size.
    """
    import zmq

    from gateway.auth import ORDERS, ExchangeAuthenticator, load_key_pair, load_public_keys
    from gateway.codec import encode
    from gateway.config import SERVER_KEY
    from gateway.protocol import ExecType, ExecutionReport, OrdStatus

    keys = Path(key_dir)
    server_key = load_key_pair(keys, SERVER_KEY)
    ctx = zmq.Context()
    auth = ExchangeAuthenticator(ctx)
    auth.start()
    auth.allow(ORDERS, load_public_keys(keys / "participants"))
    sock = ctx.socket(zmq.ROUTER)
    sock.linger = 0
    sock.router_mandatory = 1
    sock.sndhwm = sock.rcvhwm = 100_000
    sock.curve_server = True
    sock.curve_secretkey = server_key.secret
    sock.curve_publickey = server_key.public
    sock.zap_domain = ORDERS.encode()
    sock.bind(ANY_PORT)
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    reply = ExecutionReport(
        1, time.time_ns(), 1, ExecType.NEW, OrdStatus.NEW, 10_000_001, 0, 1, BENCH_ID, 1,
        REFERENCE, 3, 3, 0, 0,
    )
    ready.put(sock.last_endpoint.decode())
    while not done.is_set():
        if not poller.poll(50):
            continue
        out: dict[bytes, int] = {}
        for _ in range(512):
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                break
            head = frames[0]
            head.get("User-Id")
            rid = head.bytes
            out[rid] = out.get(rid, 0) + 1
        for rid, count in out.items():
            sock.send_multipart((rid, encode([reply] * count)), zmq.DONTWAIT)
    sock.close()
    auth.stop()
    ctx.term()


def _orders(seed: int, count: int) -> list[bytes]:
    from engine.messages import Side
    from gateway.codec import encode
    from gateway.protocol import NewOrder

    rng = random.Random(seed)
    base = seed * 10_000_000
    return [
        encode(
            NewOrder(
                base + i + 1,
                BENCH_ID,
                rng.choice((Side.BUY, Side.SELL)),
                rng.randint(1, 5),
                REFERENCE + rng.randint(-10, 10),
            )
        )
        for i in range(count)
    ]


def run_client(index, key_dir, endpoint, mode, args, echo, barrier, results) -> None:
    """One broker: log on, wait for the start signal, then saturate or pace."""
    import zmq

    from gateway.client import Client, participant_keys
    from gateway.codec import decode_response
    from gateway.protocol import ExecType, ExecutionReport

    server_key, key = participant_keys(Path(key_dir), f"BENCH-{mode}-{index}")
    ctx = zmq.Context()
    client = Client(endpoint, server_key, key, context=ctx)
    if echo:  # connect before the clock starts: one round trip
        client.sock.send(b"\x91\x02")
        client.sock.poll(5000)
        client.sock.recv()
    else:
        # Orders outlive the client: cancelling a finished run's book on disconnect would be
        # one large sequenced batch in the middle of the next (paced) measurement.
        client.logon(heartbeat_ms=30_000, cancel_on_disconnect=False)
    count = args.orders if mode == "saturate" else int(args.rate / args.clients * args.seconds)
    payloads = _orders(index + 1 + (100 if mode == "paced" else 0), count)
    sock = client.sock
    send, recv, poll = sock.send, sock.recv, sock.poll
    ack_types = (ExecType.NEW, ExecType.REJECTED)
    sent_at = [0] * count
    latencies = []
    base = (index + 1 + (100 if mode == "paced" else 0)) * 10_000_000 + 1
    barrier.wait()
    t0 = time.perf_counter_ns()
    sent = acked = 0
    interval = 1e9 * args.clients / args.rate
    while acked < count:
        if mode == "saturate":
            while sent < count and sent - acked < args.window:
                send(payloads[sent], copy=True)
                sent += 1
            wait = 1000
        else:
            now = time.perf_counter_ns()
            while sent < count and t0 + sent * interval <= now:
                sent_at[sent] = time.perf_counter_ns()
                send(payloads[sent])
                sent += 1
            due = t0 + sent * interval - time.perf_counter_ns() if sent < count else 1e9
            wait = max(1, int(due // 1_000_000))  # never spin: poll's resolution is 1 ms
        if not poll(wait):
            if sent == count and mode == "saturate":
                raise TimeoutError(f"client {index}: {count - acked} orders never acknowledged")
            continue
        while True:
            try:
                data = recv(zmq.NOBLOCK)
            except zmq.Again:
                break
            now = time.perf_counter_ns()
            for msg in decode_response(data):
                if type(msg) is ExecutionReport and msg.exec_type in ack_types:
                    if mode == "paced":  # the echo answers in order, with a fixed id
                        index = acked if echo else msg.cl_ord_id - base
                        latencies.append(now - sent_at[index])
                    acked += 1
    elapsed = time.perf_counter_ns() - t0
    results.put({"index": index, "orders": count, "ns": elapsed, "latencies": latencies})
    client.close()
    ctx.term()


def _measure(args, key_dir, endpoint, mode, echo) -> list[dict]:
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(args.clients + 1), ctx.Queue()
    clients = [
        ctx.Process(
            target=run_client, args=(i, key_dir, endpoint, mode, args, echo, barrier, results)
        )
        for i in range(args.clients)
    ]
    for proc in clients:
        proc.start()
    barrier.wait(60)  # every client has logged on (or connected): start the clock
    out = [results.get(timeout=300) for _ in clients]
    for proc in clients:
        proc.join(30)
    return out


def _percentile_us(sorted_ns: list[int], q: float) -> float:
    return round(sorted_ns[int(len(sorted_ns) * q)] / 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--window", type=int, default=200, help="orders in flight per client")
    parser.add_argument("--orders", type=int, default=40_000, help="per client, saturated")
    parser.add_argument("--rate", type=int, default=10_000, help="offered orders/s, paced")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of the paced run")
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        key_dir = Path(tmp) / "keys"
        _make_keys(key_dir, args.clients)
        ready, done, results = ctx.Queue(), ctx.Event(), ctx.Queue()
        server = ctx.Process(target=run_server, args=(str(key_dir), ready, done, results))
        server.start()
        endpoint = ready.get(timeout=120)
        saturated = _measure(args, str(key_dir), endpoint, "saturate", echo=False)
        paced = _measure(args, str(key_dir), endpoint, "paced", echo=False)
        done.set()
        counters = results.get(timeout=60)
        server.join(30)

        ready, done = ctx.Queue(), ctx.Event()
        echo = ctx.Process(target=run_echo, args=(str(key_dir), ready, done))
        echo.start()
        echo_endpoint = ready.get(timeout=120)
        echoed = _measure(args, str(key_dir), echo_endpoint, "saturate", echo=True)
        echo_paced = _measure(args, str(key_dir), echo_endpoint, "paced", echo=True)
        done.set()
        echo.join(30)

    total = sum(r["orders"] for r in saturated) + sum(r["orders"] for r in paced)
    if counters["orders"] != total:
        raise SystemExit(f"server accepted {counters['orders']} orders, clients sent {total}")
    orders_per_s = sum(r["orders"] for r in saturated) / (max(r["ns"] for r in saturated) / 1e9)
    echo_per_s = sum(r["orders"] for r in echoed) / (max(r["ns"] for r in echoed) / 1e9)
    latencies = sorted(x for r in paced for x in r["latencies"])
    echo_latencies = sorted(x for r in echo_paced for x in r["latencies"])
    print(
        json.dumps(
            {
                "bench": "gateway_roundtrip",
                "clients": args.clients,
                "window": args.window,
                "orders": sum(r["orders"] for r in saturated),
                "orders_per_s": round(orders_per_s),
                "offered_per_s": args.rate,
                "ack_p50_us": _percentile_us(latencies, 0.5),
                "ack_p99_us": _percentile_us(latencies, 0.99),
                "echo_orders_per_s": round(echo_per_s),
                "ratio_vs_echo": round(orders_per_s / echo_per_s, 3),
                "echo_ack_p50_us": _percentile_us(echo_latencies, 0.5),
                "echo_ack_p99_us": _percentile_us(echo_latencies, 0.99),
                "trades": counters["trades"],
                "curve": True,
            }
        )
    )


if __name__ == "__main__":
    main()
