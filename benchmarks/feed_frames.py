"""A SHA-256 over every frame the feed publishes in fixed sessions: proof a publisher change
kept the wire identical.

Prints one JSON line: a digest per session and one over all of them. Each session drives the
real core and the real :class:`~marketdata.publisher.MarketDataPublisher` with sequenced
times (1 ms per batch, so 1-second bars close), hashes every frame exactly as it is handed to
the PUB socket, then every snapshot answer (directory, then each instrument on all channels).
Sessions: the engine benchmark's ``mixed`` stream (20,000 commands, one per batch) at depth
10 and at full depth, and the feed tests' random session (icebergs, stops, halts, mass
cancels, batches of 1 to 12) at depth 3. Run it before and after a change; the digests must
not move.

    .venv/bin/python benchmarks/feed_frames.py
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import zmq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.streams import bench_instrument, mixed
from engine.core import Core
from marketdata import snapshot
from marketdata.messages import SnapshotRequest, encode
from marketdata.publisher import MarketDataPublisher
from tests.marketdata import make_core, random_session

MS = 1_000_000


def session_digest(ctx: zmq.Context, core: Core, batches: list[list], depth: int) -> str:
    """Digest of every frame a session publishes, then of its snapshot answers."""
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory() as tmp:
        pub = MarketDataPublisher(ctx, core, f"ipc://{tmp}/pub", f"ipc://{tmp}/snap",
                                  depth_levels=depth, epoch=0)
        try:
            pub._send_frame = lambda frame, flags: digest.update(bytes(frame))
            seq = 0
            for batch in batches:
                events = []
                for cmd in batch:
                    seq += 1
                    events += core.apply(cmd, seq, seq * MS)
                pub.on_events(events, seq * MS)
            requests = [SnapshotRequest(0, "")] + [
                SnapshotRequest(i, iid) for i, iid in enumerate(pub.feeds, 1)
            ]
            for request in requests:
                for frame in snapshot.answer(encode(request), pub.feeds, core, 0, depth):
                    digest.update(frame)
        finally:
            pub.close()
    return digest.hexdigest()


def main() -> None:
    ctx = zmq.Context()
    stream = mixed(20_000)
    digests = {
        "mixed_depth10": session_digest(ctx, Core([bench_instrument()]),
                                        [[c] for c in stream], 10),
        "mixed_full_depth": session_digest(ctx, Core([bench_instrument()]),
                                           [[c] for c in stream], 0),
        "random_depth3": session_digest(ctx, make_core(), random_session(7, 4_000), 3),
    }
    everything = hashlib.sha256("".join(digests.values()).encode()).hexdigest()
    print(json.dumps({"bench": "feed_frames", **digests, "all": everything}))
    ctx.term()


if __name__ == "__main__":
    main()
