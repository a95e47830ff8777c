"""What the server feeds after each batch: event sinks, and the durable ones among them.

Public types: :class:`EventSink`, :class:`DurableSink`.

A sink sees every batch's events on the server loop's thread. A durable sink (the market-data
publisher) numbers what it sends by batch, so its state is part of the exchange's: it is
captured in snapshots at the same cut as the core, and after a crash the journal's tail is
replayed through it batch by batch, sends suppressed, so that what it sends next continues
where the crashed server stopped.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import zmq

from engine.messages import Event


class EventSink(Protocol):
    """Something fed the core's events after each batch (the market-data publisher).

    It may own sockets of the server's context; the loop polls them and calls
    :meth:`on_readable`, all on the loop's thread, so the sink sees the core consistent.
    """

    def sockets(self) -> list[zmq.Socket]: ...

    def on_readable(self, sock: zmq.Socket) -> None: ...

    def on_events(self, events: list[Event], ts: int | None = None) -> None:
        """One batch's events; ``ts`` is the sequenced time of its last command. Called for
        every batch that sequenced a command, even one that produced no event (a clock tick,
        sequenced once :meth:`next_deadline` is due): sequenced time is the only clock a sink
        may act on."""

    def on_idle(self, now_ns: int) -> None:
        """Between batches, with the wall clock: for heartbeats, never for state."""

    def next_deadline(self) -> int | None:
        """The sequenced time by which this sink needs a batch (a bar's close), or None: the
        server sequences a clock tick only when the core or a sink has one due."""

    def close(self) -> None: ...


@runtime_checkable
class DurableSink(Protocol):
    """An event sink whose state survives restarts (snapshot plus replay of the tail)."""

    state_key: str
    """Names the sink's state inside a snapshot."""

    def capture(self) -> object:
        """The state after the last batch, picklable; it may refer to the core's books."""

    def resume(self, state: object | None, epoch: int) -> None:
        """Continue from a snapshot's ``state``; with none, from the core as it stands now,
        numbering in ``epoch`` (the data directory's, or a new one if it cannot continue)."""

    def replay(self, events: list[Event], ts: int) -> None:
        """Take a journaled batch exactly as :meth:`EventSink.on_events` would, sending
        nothing: the core stands just after that batch, as it did when it was live."""
