"""Reading a data directory back: newest valid snapshot, then the journal's tail.

Public names: :class:`Recovery`, :class:`GatewayState`, :func:`capture_gateway`,
:func:`journal_records`, :func:`fresh_core`, :func:`replay_journal`.

Layout of a data directory: ``journal/`` (segments, :mod:`gateway.wal`), ``snapshots/``
(:mod:`gateway.snapshots`) and ``sth.key`` (the tree-head signing key, unless configured
elsewhere). Recovery opens the journal (cutting a torn last record), tries snapshots newest
first and takes the first one the journal vouches for whose restored fingerprint matches;
with none, it starts from the genesis record. Then it replays every later command through
the gateway, so the core, the trade tree and the client-order-id maps all catch up; the
result equals a clean replay of the whole journal (``Core.fingerprint`` proves it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import msgspec

from engine.core import Core
from engine.messages import Event, Trade
from gateway.merkle import MerkleLog
from gateway.participants import OrderRecord, Participant
from gateway.protocol import OrdStatus
from gateway.records import Genesis, Sequenced, SnapshotTaken, decode_record, trade_leaf
from gateway.session import Gateway
from gateway.sinks import DurableSink
from gateway.snapshots import read_snapshot, restore_core, snapshot_files
from gateway.wal import HEADER, Frame, Position, read_frames
from risk.engine import RiskEngine

log = logging.getLogger("ipx.recovery")


class RecordState(msgspec.Struct, array_like=True, frozen=True):
    """One gateway order record, with its participant by name."""

    order_id: int
    cl_ord_id: int
    participant: str
    instrument: str
    side: int
    price: int
    order_qty: int
    quote: bool
    orig_cl_ord_id: int
    cum_qty: int
    cum_notional: int
    status: int


class GatewayState(msgspec.Struct, frozen=True):
    """What the gateway knows beyond the core: client order ids, order records, quotes."""

    records: list[RecordState]
    cl_ord_ids: dict[str, list[tuple[int, int]]]
    """Participant -> (client order id, order id or 0 for a cancel's or amend's own id)."""
    quotes: dict[str, list[tuple[str, int, int]]]
    """Participant -> (instrument, side, order id) of each side of its quote."""
    live: list[int]
    last_order_id: int
    exec_id: int


def capture_gateway(gateway: Gateway) -> bytes:
    """The gateway's state as msgpack, for a snapshot; sessions are not kept."""
    records: dict[int, OrderRecord] = dict(gateway.orders)
    cl_ord_ids = {}
    quotes = {}
    for name, participant in gateway.participants.items():
        ids = []
        for cl_ord_id, record in participant.cl_ord_ids.items():
            if record is not None:
                records[record.order_id] = record
            ids.append((cl_ord_id, 0 if record is None else record.order_id))
        cl_ord_ids[name] = ids
        quotes[name] = [(i, side, r.order_id) for (i, side), r in participant.quotes.items()]
        records.update({r.order_id: r for r in participant.quotes.values()})
    state = GatewayState(
        [
            RecordState(
                r.order_id, r.cl_ord_id, r.participant.name, r.instrument, r.side, r.price,
                r.order_qty, r.quote, r.orig_cl_ord_id, r.cum_qty, r.cum_notional, r.status,
            )
            for r in records.values()
        ],
        cl_ord_ids,
        quotes,
        list(gateway.orders),
        gateway.last_order_id,
        gateway.exec_id,
    )
    return msgspec.msgpack.encode(state)


def restore_gateway(gateway: Gateway, data: bytes) -> None:
    """Load a captured state into a fresh gateway; orders go to offline sessions."""
    state = msgspec.msgpack.decode(data, type=GatewayState)
    participants = gateway.participants
    records = {}
    for r in state.records:
        participant = _participant(gateway, r.participant)
        records[r.order_id] = OrderRecord(
            r.order_id, r.cl_ord_id, participant, gateway.offline_session(participant),
            r.instrument, r.side, r.price, r.order_qty, r.quote, r.orig_cl_ord_id, r.cum_qty,
            r.cum_notional, OrdStatus(r.status),
        )
    for name, ids in state.cl_ord_ids.items():
        named = {cl: records.get(oid) if oid else None for cl, oid in ids}
        _participant(gateway, name).cl_ord_ids.update(named)
    for name, sides in state.quotes.items():
        participants[name].quotes.update({(i, side): records[oid] for i, side, oid in sides})
    for order_id in state.live:
        record = records[order_id]
        gateway.orders[order_id] = record
        record.session.orders[order_id] = record
    gateway.last_order_id = state.last_order_id
    gateway.exec_id = state.exec_id


def _participant(gateway: Gateway, name: str) -> Participant:
    """The gateway's participant of this name; one no longer configured is kept, logged off."""
    participant = gateway.participants.get(name)
    if participant is None:
        participant = gateway.participants[name] = Participant(name)
    return participant


def journal_records(directory: Path, start: Position | None = None) -> Iterator[tuple]:
    """``(frame, record)`` for every journal record from ``start``."""
    for frame in read_frames(directory, start):
        yield frame, decode_record(frame.body)


def fresh_core(genesis: Genesis) -> Core:
    """The core a journal starts from, as its genesis record describes it."""
    return Core(genesis.instruments, risk=RiskEngine() if genesis.risk_enabled else None)


def replay_journal(
    directory: Path,
    until_seq: int | None = None,
    progress: Callable[[int], None] | None = None,
    trades: bool = True,
) -> tuple[Core, MerkleLog, int]:
    """A clean replay from the genesis record: the core, the trade tree, commands applied.

    The reference every recovery is checked against. ``trades=False`` skips building the
    trade tree (it is evidence, not state: the fingerprint does not cover it). ``progress``
    is called every 65,536 commands with the number applied so far.
    """
    core = None
    tree = MerkleLog()
    append = tree.append
    applied = 0
    last = until_seq if until_seq is not None else float("inf")
    decode = decode_record
    for frame in read_frames(directory):  # the hot loop of every replay: no extra layers
        record = decode(frame.body)
        if type(record) is Sequenced:
            if record.seq > last:
                break
            events = core.apply(record.cmd, record.seq, record.ts)
            if trades:
                for event in events:
                    if type(event) is Trade:
                        append(trade_leaf(event))
            applied += 1
            if progress is not None and not applied & 0xFFFF:
                progress(applied)
        elif type(record) is Genesis:
            core = fresh_core(record)
    if core is None:
        raise ValueError(f"{directory}: no genesis record")
    return core, tree, applied


class Recovery:
    """The state a data directory holds, loaded up to the start of the journal's tail.

    ``core`` is None for an empty journal (a new exchange). After :meth:`replay_into`, the
    gateway's core, trade tree and maps stand where the journal ends.
    """

    def __init__(self, journal_dir: Path, snapshot_dir: Path) -> None:
        self.journal_dir = journal_dir
        self.genesis: Genesis | None = None
        self.core: Core | None = None
        self.tree = MerkleLog()
        self.gateway_state = b""
        self.sink_states: dict[str, object] = {}
        self.start: Position | None = None
        self.snapshot = ""
        first = next(journal_records(journal_dir), None)
        if first is None:
            return
        if type(first[1]) is not Genesis:
            raise ValueError(f"{journal_dir}: the first record is not a genesis record")
        self.genesis = first[1]
        for path in snapshot_files(snapshot_dir):
            if self._load(path):
                self.snapshot = path.name
                return
        self.core = fresh_core(self.genesis)

    def _load(self, path: Path) -> bool:
        """Restore from one snapshot if the journal vouches for it and it restores exactly."""
        try:
            header, payload, digest = read_snapshot(path)
            marker = self._marker_at(header.position)
            if (
                type(marker[1]) is not SnapshotTaken
                or marker[1].digest != digest
                or marker[1].seq != header.seq
            ):
                raise ValueError("the journal does not vouch for it")
            core, tree, gateway_state, sink_states = restore_core(payload)
            if core.fingerprint() != header.fingerprint or core.last_seq != header.seq:
                raise ValueError("restored state does not match its fingerprint")
        except Exception as error:  # any failure: fall back to an older snapshot or replay
            log.warning("snapshot %s not used: %s", path.name, error)
            return False
        self.core, self.tree, self.gateway_state = core, tree or MerkleLog(), gateway_state
        self.sink_states = sink_states
        frame: Frame = marker[0]
        self.start = Position(
            int(frame.segment.stem), frame.offset + HEADER.size + len(frame.body), frame.index + 1
        )
        return True

    def _marker_at(self, position: Position) -> tuple:
        records = journal_records(self.journal_dir, position)
        found = next(records, None)
        if found is None:
            raise ValueError("no snapshot record in the journal")
        return found

    def replay_into(self, gateway: Gateway, sinks: Sequence[DurableSink] = ()) -> int:
        """Restore the gateway's maps, then replay the tail through it and, batch by batch,
        through ``sinks``; return its length. A last batch without its end mark (torn, or
        from a journal older than the marks) is handed to the sinks as one batch."""
        if self.gateway_state:
            restore_gateway(gateway, self.gateway_state)
        if self.genesis is None:
            return 0
        replay = gateway.replay
        count = 0
        batch: list[Event] = []
        open_batch = False
        ts = 0
        for _, record in journal_records(self.journal_dir, self.start):
            if type(record) is Sequenced:
                ts = record.ts
                batch += replay(record.seq, ts, record.cmd, record.origin)
                count += 1
                open_batch = not record.batch_end
                if not open_batch:
                    for sink in sinks:
                        sink.replay(batch, ts)
                    batch = []
        if open_batch:
            for sink in sinks:
                sink.replay(batch, ts)
        return count
