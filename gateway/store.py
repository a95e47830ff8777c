"""The server's data directory at run time: journal, snapshots and signed tree heads.

Public type: :class:`Store`.

The server owns one :class:`Store` when ``data_dir`` is set. Opening it recovers whatever
the directory holds (:mod:`gateway.recovery`); a new directory gets a genesis record first.
Between batches the server calls :meth:`Store.after_batch`, which writes a snapshot every
``snapshot_every`` commands and signs the trade tree's head every ``sth_interval_ms`` when
trades were added; a clean stop does both once more.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from engine.core import Core
from gateway.config import ServerConfig
from gateway.journal import FileJournal
from gateway.receipts import TradeLog, load_signing_key
from gateway.records import FORMAT_VERSION, Genesis, SnapshotTaken, ends_append
from gateway.recovery import Recovery, capture_gateway
from gateway.session import Gateway
from gateway.sinks import DurableSink
from gateway.snapshots import capture_core, snapshot_files, write_snapshot
from gateway.wal import WalWriter

log = logging.getLogger("ipx.store")

KEEP_SNAPSHOTS = 2
"""Older snapshots are deleted: the journal, kept whole, can always rebuild them."""


class Store:
    """Journal, snapshots and tree heads of one data directory, recovered on opening."""

    def __init__(self, config: ServerConfig) -> None:
        root = Path(config.data_dir)
        self.config = config
        self.snapshot_dir = root / "snapshots"
        self.wal = WalWriter(
            root / "journal",
            fsync=config.fsync,
            interval_ms=config.fsync_interval_ms,
            segment_bytes=config.segment_bytes,
            ends_append=ends_append,
        )
        if self.wal.torn_bytes:
            log.warning("cut a torn journal tail of %d bytes", self.wal.torn_bytes)
        self.journal = FileJournal(self.wal)
        self.recovery = Recovery(root / "journal", self.snapshot_dir)
        key_path = Path(config.sth_key_file) if config.sth_key_file else root / "sth.key"
        private_key, self.public_key = load_signing_key(key_path)
        self.trades = TradeLog(private_key)
        self.trades.tree = self.recovery.tree
        self._snapshot_seq = 0
        self._next_head_ns = 0
        self.sinks: list[DurableSink] = []

    @property
    def core(self) -> Core | None:
        """The recovered core (up to the journal's tail), or None for a new directory."""
        return self.recovery.core

    def start(self, core: Core, gateway: Gateway, sinks: Sequence[object] = ()) -> int:
        """Write the genesis record of a new journal, or replay the tail of an old one.

        Returns the number of commands replayed. A recovered gateway's execution ids restart
        above the clock's nanoseconds: a gateway issues fewer than one report per nanosecond,
        so no id issued before the restart repeats. Durable sinks among ``sinks`` resume from
        the snapshot and take the tail too; later snapshots capture them.
        """
        replayed = 0
        self.sinks = [sink for sink in sinks if isinstance(sink, DurableSink)]
        recovery = self.recovery
        if recovery.genesis is None:
            created_ns = time.time_ns()
            genesis = Genesis(
                FORMAT_VERSION, core.instruments, core.risk is not None, self.public_key,
                created_ns,
            )
            self.journal.append_records([genesis])
            for sink in self.sinks:
                sink.resume(None, created_ns)
        else:
            # Numbering continues from the snapshot's state, or from the genesis when the whole
            # journal is replayed; otherwise (no state, or a journal older than its batch
            # marks) a sink cannot continue and starts a new epoch.
            created_ns = recovery.genesis.created_ns
            epoch = created_ns if created_ns and not recovery.snapshot else time.time_ns()
            for sink in self.sinks:
                sink.resume(recovery.sink_states.get(sink.state_key), epoch)
            replayed = recovery.replay_into(gateway, self.sinks)
            gateway.exec_id = max(gateway.exec_id, time.time_ns())
            log.info(
                "recovered seq %d from %s and %d journaled commands; fingerprint %s",
                gateway.seq, self.recovery.snapshot or "the genesis record", replayed,
                core.fingerprint(),
            )
        self._snapshot_seq = gateway.seq
        self._next_head_ns = time.monotonic_ns() + self.config.sth_interval_ms * 1_000_000
        return replayed

    def after_batch(self, gateway: Gateway, mono_ns: int) -> None:
        """Snapshot, sign and (fsync policy "interval") sync when due; called by the server
        loop between batches, idle or not."""
        self.wal.sync_if_due(mono_ns)
        every = self.config.snapshot_every
        if every and gateway.seq - self._snapshot_seq >= every:
            self.snapshot(gateway)
        if mono_ns >= self._next_head_ns:
            self._next_head_ns = mono_ns + self.config.sth_interval_ms * 1_000_000
            if len(self.trades.tree) != self.trades.signed_size:
                self.sign_head(gateway)

    def sign_head(self, gateway: Gateway) -> None:
        """Journal a signed head of the trade tree and of the journal's hash chain."""
        head = self.trades.head(gateway.last_ts, self.wal.records, self.wal.head)
        self.journal.append_records([head])

    def snapshot(self, gateway: Gateway) -> str:
        """Write the state after the last applied command, then journal the record that
        vouches for it; keep the newest :data:`KEEP_SNAPSHOTS`."""
        core = gateway.core
        seq = core.last_seq
        fingerprint = core.fingerprint()
        sinks = {sink.state_key: sink.capture() for sink in self.sinks}
        payload = capture_core(core, self.trades.tree, capture_gateway(gateway), sinks)
        position = self.wal.position()
        name, digest = write_snapshot(self.snapshot_dir, (seq, fingerprint, position), payload)
        self.journal.append_records([SnapshotTaken(seq, fingerprint, name, digest)])
        self._snapshot_seq = gateway.seq
        for old in snapshot_files(self.snapshot_dir)[KEEP_SNAPSHOTS:]:
            old.unlink()
        return name

    def close(self, gateway: Gateway) -> None:
        """A clean stop: sign the last trades, snapshot, and close the journal."""
        if len(self.trades.tree) != self.trades.signed_size:
            self.sign_head(gateway)
        if gateway.seq != self._snapshot_seq:
            self.snapshot(gateway)
        self.wal.close()
