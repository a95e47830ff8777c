"""The write-ahead journal boundary between sequencing and acknowledging.

Public names: :class:`Journal` (the interface), :class:`NullJournal`, :class:`MemoryJournal`.

The server stamps a batch of commands with sequence numbers and times, hands the whole batch
to :meth:`Journal.append`, and only then applies the commands and sends acknowledgements:
what a client saw acknowledged is on record. ``append`` returns once the batch is durable
under the journal's policy (one flush per batch: group commit). The durable file journal is
a later piece of work; these two implementations keep the boundary in place meanwhile.
"""

from __future__ import annotations

from typing import Protocol

from engine.schema import ExchangeCommand

Entry = tuple[int, int, ExchangeCommand]
"""``(seq, ts_ns, command)``: exactly what ``Core.apply`` receives, so a replay is exact."""


class Journal(Protocol):
    def append(self, batch: list[Entry]) -> None:
        """Record the batch; return only once it is durable."""

    def close(self) -> None: ...


class NullJournal:
    """Keeps nothing: for benchmarks and for servers whose state may be lost."""

    def append(self, batch: list[Entry]) -> None:
        return None

    def close(self) -> None:
        return None


class MemoryJournal:
    """Keeps every entry in a list: for tests that replay what the server sequenced."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def append(self, batch: list[Entry]) -> None:
        self.entries.extend(batch)

    def close(self) -> None:
        return None
