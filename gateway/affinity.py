"""Core pinning: the server loop on a core of its own, libzmq's I/O threads on the others.

Public functions: :func:`io_threads_elsewhere`, :func:`pin_thread`.

Every feed frame is copied to every subscriber's connection by libzmq's I/O threads, and
every send wakes one of them. Left to the scheduler, those threads (and any local reader)
land on the loop's core as often as not, and the loop waits for them: on the 2-core machine
the feed benchmark's rate to one reader moved by 20% between identical runs. An exchange
gives its matching thread a core of its own; this does that inside one process. It changes
where threads run, never what they compute, so the journal and the feed are the same.
"""

from __future__ import annotations

import os

import zmq


def io_threads_elsewhere(ctx: zmq.Context, cpu: int) -> bool:
    """Keep ``ctx``'s I/O threads off ``cpu``; False (nothing done) when it is the only
    allowed core. Call it before ``ctx`` makes its first socket: libzmq starts its I/O
    threads then, with the affinity set at that moment."""
    allowed = os.sched_getaffinity(0)
    if cpu not in allowed:
        raise ValueError(f"cpu {cpu} is not one this process may run on: {sorted(allowed)}")
    others = sorted(allowed - {cpu})
    for other in others:
        ctx.set(zmq.THREAD_AFFINITY_CPU_ADD, other)
    return bool(others)


def pin_thread(cpu: int) -> None:
    """Run the calling thread (only it: pid 0 names the caller) on ``cpu`` alone."""
    os.sched_setaffinity(0, {cpu})
