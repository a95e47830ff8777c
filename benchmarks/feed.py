"""Feed benchmark: the real engine and publisher loop with local subscribers over TCP.

Prints one JSON line:

- ``msgs_per_s``: feed frames per second the server loop published while 1, 10 and 50
  subscribers (in a second process) read them, one command per batch (the most frames per
  command), the median of ``--repeats`` runs (all of them in ``msgs_per_s_runs``, sorted);
  ``delivered_per_s`` and ``lost`` say what the median subscriber got in the median run;
- ``tick_p50_us`` / ``tick_p99_us``: order-to-tick latency, from the sequencer's timestamp
  taken before ``core.apply`` to the subscriber's receipt of the first frame it caused
  (both ``CLOCK_MONOTONIC``), orders paced at ``--pace-us``;
- ``stalled_ratio``: the server's command rate with 50 subscribers that stopped reading,
  divided by its rate with none, runs alternated in this process (median of each);
- ``server_cpu_us_per_cmd`` and ``stalled_cpu_ratio``: the same runs by the server loop's own
  CPU time (its thread's), which other processes on the machine do not move: what a command
  costs the loop itself, apart from the time it waited for a core.

The server loop runs pinned to core 0 by default, as ``ipx serve --loop-cpu 0`` runs it
(:mod:`gateway.affinity`): libzmq's I/O threads and the subscriber process use the other
cores. ``--loop-cpu -1`` leaves placement to the scheduler.

    .venv/bin/python benchmarks/feed.py [--n 60000] [--repeats 3] [--loop-cpu 0]

After timing, every replay must reach the same core fingerprint, and the single subscriber
must have received every frame published.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

import zmq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.streams import bench_instrument, mixed
from engine.core import Core
from gateway.affinity import io_threads_elsewhere, pin_thread
from marketdata.messages import Bars, Heartbeat, Trades, decode_feed, split_frame
from marketdata.publisher import DEFAULT_HWM, MarketDataPublisher

LOSSLESS_HWM = 10_000_000
"""For the rate runs: deep enough that the subscribers' pace, not the queue, decides loss."""
HEARTBEAT_NS = 1_000_000
IDLE_S = 1.0
HEARTBEAT_TAG = Heartbeat.__struct_config__.tag


# -- subscriber process -----------------------------------------------------------------------


def subscribers(n: int, hwm: int, conn, cpus: frozenset[int]) -> None:
    """``n`` SUB sockets; obeys ``arm`` (with the endpoint), ``count``, ``latency``, ``stop``.

    They connect only when armed, to the port the publisher has bound by then: a port
    reserved in advance could be taken meanwhile by any process's outgoing connection.
    They run on ``cpus`` (readers kept off a pinned server loop's core).
    """
    os.sched_setaffinity(0, cpus)
    ctx = zmq.Context()
    socks = []
    poller = zmq.Poller()
    while True:
        cmd, arg = conn.recv()
        if cmd == "arm":  # connect; ready once every socket sees a frame
            for _ in range(n):
                sock = ctx.socket(zmq.SUB)
                sock.rcvhwm = hwm
                sock.linger = 0
                sock.subscribe(b"")
                sock.connect(arg)
                socks.append(sock)
                poller.register(sock, zmq.POLLIN)
            fresh = set()
            while len(fresh) < n:
                for sock, _ in poller.poll(100):
                    while sock.poll(0):
                        sock.recv()
                    fresh.add(sock)
            conn.send("armed")
        elif cmd == "count":
            conn.send(_count(socks, poller, arg))
        elif cmd == "latency":
            conn.send(_latency(socks[0], arg))
        else:
            ctx.destroy(linger=0)
            return


def _count(socks: list, poller: zmq.Poller, total: int) -> tuple[list[int], float]:
    """Read until every socket has ``total`` data frames or the feed is idle; count them.

    Heartbeats (sent while arming) are not counted: a payload is a msgpack array whose
    second byte is the message's int tag.
    """
    counts = dict.fromkeys(socks, 0)
    last = time.perf_counter()
    while min(counts.values()) < total:
        ready = poller.poll(int(IDLE_S * 1000))
        if not ready:
            break
        for sock, _ in ready:
            recv = sock.recv
            got = 0
            try:
                while True:
                    frame = recv(zmq.NOBLOCK)
                    got += frame[frame.index(0) + 2] != HEARTBEAT_TAG
            except zmq.Again:
                counts[sock] += got
        last = time.perf_counter()
    return list(counts.values()), last


def _latency(sock: zmq.Socket, commands: int) -> list[int]:
    """Per command timestamp, the first frame's arrival minus the timestamp, in ns."""
    first: dict[int, int] = {}
    while len(first) < commands and sock.poll(int(IDLE_S * 1000)):
        frame = sock.recv()
        now = time.perf_counter_ns()
        msg = decode_feed(split_frame(frame)[1])
        if type(msg) in (Heartbeat, Bars):
            continue
        ts = msg.trades[0][4] if type(msg) is Trades else msg.ts
        first.setdefault(ts, now - ts)
    return list(first.values())


# -- server side ------------------------------------------------------------------------------


def serve(ctx: zmq.Context, commands: list, hwm: int, child=None, count: bool = True,
          warmup: int = 0) -> dict:
    """One replay through a fresh core and publisher, one command per batch.

    ``child`` (a subscriber process) is armed before timing: its sockets are connected and
    live. With ``count`` it then reads and reports what it got; without, it stays stalled,
    and the first ``warmup`` commands (untimed) fill its queues: it has stopped reading.
    """
    core = Core([bench_instrument()])
    pub, _ = _publisher(ctx, core, hwm, child)
    apply = core.apply
    on_events = pub.on_events
    ns = time.perf_counter_ns
    for seq, cmd in enumerate(commands[:warmup], 1):
        on_events(apply(cmd, seq, ns()))
    armed = pub.frames_sent
    start = time.perf_counter()
    cpu_start = time.thread_time()
    for seq, cmd in enumerate(commands[warmup:], warmup + 1):
        on_events(apply(cmd, seq, ns()))
    elapsed = time.perf_counter() - start
    cpu = time.thread_time() - cpu_start
    commands = commands[warmup:]
    frames = pub.frames_sent - armed
    result = {
        "cmds_per_s": len(commands) / elapsed,
        "cpu_us_per_cmd": cpu / len(commands) * 1e6,
        "frames": frames,
        "frames_per_s": frames / elapsed,
        "fingerprint": core.fingerprint(),
    }
    if child is not None and count:
        child.send(("count", frames))
        counts, last = child.recv()
        median = statistics.median(counts)
        result["delivered_per_s"] = median / (last - start)
        result["lost"] = 1 - median / frames
        result["counts"] = counts
    elif child is not None:  # a stalled child leaves before the publisher does: libzmq
        child.send(("stop", None))  # 4.3.5 asserts in a throttled SUB whose peer went away
    pub.close()
    return result


def paced_latency(ctx: zmq.Context, commands: list, child, pace_ns: int):
    """Order-to-tick latencies (ns, sorted) of commands sent one every ``pace_ns``."""
    core = Core([bench_instrument()])
    pub, _ = _publisher(ctx, core, LOSSLESS_HWM, child)
    child.send(("latency", len(commands)))
    ns = time.perf_counter_ns
    for seq, cmd in enumerate(commands, 1):
        due = ns() + pace_ns
        pub.on_events(core.apply(cmd, seq, ns()))
        while ns() < due:  # pacing a load generator, not synchronising anything
            pass
    latencies = child.recv()
    pub.close()
    return sorted(latencies)


def _publisher(ctx: zmq.Context, core: Core, hwm: int, child):
    """A publisher on a free local port and the frames it sent (heartbeats) until the
    subscriber process was armed."""
    pub = MarketDataPublisher(ctx, core, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*", hwm=hwm,
                              heartbeat_ns=HEARTBEAT_NS, epoch=1)
    if child is not None:
        child.send(("arm", pub.pub.last_endpoint.decode()))
        while not child.poll(0.001):
            pub.on_idle(time.perf_counter_ns())
        child.recv()
    return pub, pub.frames_sent


def start_subscribers(n: int, hwm: int, cpus: frozenset[int]):
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=subscribers,
                                          args=(n, hwm, child, cpus), daemon=True)
    proc.start()
    return proc, parent


def stop(proc, conn) -> None:
    conn.send(("stop", None))
    proc.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60_000, help="commands per replay")
    parser.add_argument("--warmup", type=int, default=30_000,
                        help="untimed commands that fill stalled subscribers' queues first")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency-n", type=int, default=5_000)
    parser.add_argument("--pace-us", type=int, default=200)
    parser.add_argument("--hwm", type=int, default=DEFAULT_HWM,
                        help="publisher and stalled subscribers' high-water mark")
    parser.add_argument("--only-ratio", action="store_true",
                        help="skip the rate and latency runs")
    parser.add_argument("--loop-cpu", type=int, default=0,
                        help="the server loop's core (gateway.affinity; the I/O threads and "
                             "the subscribers run on the others); -1: no pinning")
    args = parser.parse_args()
    commands = mixed(args.n)
    fingerprints: dict[int, set[str]] = {}  # stream length -> fingerprints of its replays
    out: dict = {"commands": args.n, "hwm": args.hwm, "loop_cpu": args.loop_cpu}
    readers = frozenset(os.sched_getaffinity(0))  # before this thread is pinned
    with zmq.Context() as ctx:
        if args.loop_cpu >= 0 and io_threads_elsewhere(ctx, args.loop_cpu):
            pin_thread(args.loop_cpu)
            readers -= {args.loop_cpu}
        rates, delivered, lost, cpu, every = {}, {}, {}, {}, {}
        for n in () if args.only_ratio else (1, 10, 50):
            runs = []
            for _ in range(args.repeats):  # a fresh subscriber process each time
                proc, conn = start_subscribers(n, LOSSLESS_HWM, readers)
                run = serve(ctx, commands, LOSSLESS_HWM, conn)
                stop(proc, conn)
                fingerprints.setdefault(len(commands), set()).add(run["fingerprint"])
                if n == 1 and run["counts"] != [run["frames"]]:
                    raise SystemExit(f"one subscriber got {run['counts']} of {run['frames']}")
                runs.append(run)
            runs.sort(key=lambda r: r["frames_per_s"])
            run = runs[len(runs) // 2]  # the median run, whose other figures go with it
            rates[n], delivered[n], lost[n] = run["frames_per_s"], run["delivered_per_s"], \
                run["lost"]
            cpu[n] = run["cpu_us_per_cmd"]
            every[n] = [round(r["frames_per_s"]) for r in runs]
        out["msgs_per_s"] = {n: round(r) for n, r in rates.items()}
        out["msgs_per_s_runs"] = every
        out["delivered_per_s"] = {n: round(r) for n, r in delivered.items()}
        out["lost"] = {n: round(r, 3) for n, r in lost.items()}

        proc, conn = start_subscribers(1, LOSSLESS_HWM, readers)
        latencies = [0] if args.only_ratio else paced_latency(
            ctx, mixed(args.latency_n, seed=3), conn, args.pace_us * 1000
        )
        stop(proc, conn)
        out["tick_p50_us"] = round(latencies[len(latencies) // 2] / 1000, 1)
        out["tick_p99_us"] = round(latencies[int(len(latencies) * 0.99)] / 1000, 1)
        out["tick_samples"] = len(latencies)

        none_rates, stalled_rates, none_cpu, stalled_cpu = [], [], [], []
        stalled_stream = mixed(args.warmup + args.n)
        for _ in range(args.repeats):
            run = serve(ctx, stalled_stream, args.hwm, warmup=args.warmup)
            none_rates.append(run["cmds_per_s"])
            none_cpu.append(run["cpu_us_per_cmd"])
            fingerprints.setdefault(len(stalled_stream), set()).add(run["fingerprint"])
            proc, conn = start_subscribers(50, args.hwm, readers)
            run = serve(ctx, stalled_stream, args.hwm, conn, count=False, warmup=args.warmup)
            proc.join(10)
            stalled_rates.append(run["cmds_per_s"])
            stalled_cpu.append(run["cpu_us_per_cmd"])
            fingerprints.setdefault(len(stalled_stream), set()).add(run["fingerprint"])
        out["server_cmds_per_s_none"] = round(statistics.median(none_rates))
        out["server_cmds_per_s_50_stalled"] = round(statistics.median(stalled_rates))
        out["stalled_ratio"] = round(
            statistics.median(stalled_rates) / statistics.median(none_rates), 3
        )
        cpu["none"] = statistics.median(none_cpu)
        cpu["50_stalled"] = statistics.median(stalled_cpu)
        out["server_cpu_us_per_cmd"] = {n: round(us, 2) for n, us in cpu.items()}
        out["stalled_cpu_ratio"] = round(cpu["none"] / cpu["50_stalled"], 3)
    if any(len(prints) != 1 for prints in fingerprints.values()):
        raise SystemExit(f"replays diverged: {fingerprints}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
