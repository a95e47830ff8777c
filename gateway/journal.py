"""The write-ahead journal boundary between sequencing and acknowledging.

Public names: :class:`Journal` (the interface), :class:`NullJournal`, :class:`MemoryJournal`,
:class:`FileJournal`, :data:`Entry`.

The server stamps a batch of commands with sequence numbers and times, hands the whole batch
to :meth:`Journal.append`, and only then applies the commands and sends acknowledgements:
what a client saw acknowledged is on record. ``append`` returns once the batch is durable
under the journal's policy (one flush per batch: group commit). :class:`FileJournal` is the
durable one (docs/DURABILITY.md); the other two keep the boundary for tests and benchmarks.
"""

from __future__ import annotations

from typing import Protocol

from engine.schema import ExchangeCommand
from gateway.records import AnyRecord, Origin, Sequenced, encode_record
from gateway.wal import WalWriter

Entry = tuple[int, int, ExchangeCommand, Origin | None]
"""``(seq, ts_ns, command, origin)``: exactly what ``Core.apply`` receives, so a replay is
exact, and the client request it came from, so the gateway's maps replay too."""


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


class FileJournal:
    """The durable journal: each entry a :class:`~gateway.records.Sequenced` record in a
    :class:`~gateway.wal.WalWriter`, one write and one fsync per batch."""

    def __init__(self, wal: WalWriter) -> None:
        self.wal = wal

    def append(self, batch: list[Entry]) -> None:
        if not batch:
            return
        encode = encode_record
        records = [encode(Sequenced(*entry)) for entry in batch[:-1]]
        records.append(encode(Sequenced(*batch[-1], True)))
        self.wal.append(records)

    def append_records(self, records: list[AnyRecord]) -> None:
        """Records that are not commands (genesis, tree heads, snapshot marks), in the chain."""
        self.wal.append([encode_record(record) for record in records])

    def close(self) -> None:
        self.wal.close()
