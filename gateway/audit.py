"""Checking a data directory without trusting its operator: ``ipx verify`` and receipts.

Public names: :class:`AuditReport`, :func:`verify`, :func:`build_receipt`.

:func:`verify` reads every journal record once and checks, in order: framing and CRC (decay,
torn writes), the hash chain (any edit: a changed record breaks the link the next record
stores), then replays the commands through a fresh core and rebuilds the trade tree, and
checks every signed tree head against it (root at its size, both signatures, the chain head
and record count it signed) and every snapshot record against the replayed fingerprint. The
first failure names the record; a forger who rewrote the chain from an edit onwards is still
caught by the next signed head, whose chain signature no longer matches.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from engine.messages import Trade
from gateway.evidence import GENESIS_PREV, chain_hash
from gateway.merkle import MerkleLog
from gateway.receipts import Receipt, make_receipt, verify_chain_head
from gateway.records import Genesis, Sequenced, SnapshotTaken, TreeHead, decode_record, trade_leaf
from gateway.recovery import fresh_core
from gateway.signing import SignedTreeHead, verify_tree_head
from gateway.wal import CorruptJournal, read_frames


class AuditReport(msgspec.Struct, kw_only=True):
    """What :func:`verify` found; ``first_bad`` is the index of the first altered record."""

    records: int = 0
    commands: int = 0
    trades: int = 0
    tree_heads: int = 0
    snapshots: int = 0
    fingerprint: str = ""
    chain_head: str = ""
    first_bad: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad is None


def verify(data_dir: Path, public_key: bytes | None = None) -> AuditReport:
    """Check the journal of ``data_dir``; stop at the first altered record.

    ``public_key`` pins the tree-head key; without it the genesis record's key is used,
    which shows the journal is internally consistent but not who wrote it.
    """
    report = AuditReport()
    link = GENESIS_PREV
    core = None
    tree = MerkleLog()
    key = public_key
    index = 0
    try:
        for frame in read_frames(data_dir / "journal"):
            index = frame.index
            body = frame.body
            if frame.prev != link:
                return _fail(report, max(index - 1, 0), "hash chain broken: the record (or "
                             "the link stored after it) was altered")
            record = decode_record(body)
            kind = type(record)
            if kind is Sequenced:
                for event in core.apply(record.cmd, record.seq, record.ts):
                    if type(event) is Trade:
                        tree.append(trade_leaf(event))
                report.commands += 1
            elif kind is TreeHead:
                problem = _head_problem(record, tree, key, index, link)
                if problem:
                    return _fail(report, index, problem)
                report.tree_heads += 1
            elif kind is SnapshotTaken:
                if record.fingerprint != core.fingerprint():
                    return _fail(report, index, "snapshot record disagrees with the replay")
                report.snapshots += 1
            elif kind is Genesis:
                if index:
                    return _fail(report, index, "a second genesis record")
                core = fresh_core(record)
                key = key or record.sth_public_key
            link = chain_hash(frame.prev, body)
            report.records = index + 1
    except CorruptJournal as error:
        return _fail(report, error.index, f"{error.why} ({error.segment.name})")
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        return _fail(report, index, f"undecodable record: {error}")
    report.trades = len(tree)
    report.fingerprint = core.fingerprint() if core is not None else ""
    report.chain_head = link.hex()
    return report


def _head_problem(
    head: TreeHead, tree: MerkleLog, key: bytes | None, index: int, link: bytes
) -> str:
    if head.tree_size != len(tree) or head.root != tree.root():
        return f"tree head of size {head.tree_size} does not match the replayed trades"
    sth = SignedTreeHead(head.tree_size, head.timestamp_ns, head.root, head.signature)
    if not key or not verify_tree_head(key, sth):
        return "tree head signature does not verify"
    if head.records != index or head.chain_head != link or not verify_chain_head(key, head):
        return "signed journal head does not match the records before it"
    return ""


def _fail(report: AuditReport, index: int, problem: str) -> AuditReport:
    report.first_bad = index
    report.problem = f"record {index}: {problem}"
    return report


def build_receipt(data_dir: Path, trade_id: int, old_size: int = 0) -> Receipt:
    """A receipt for one trade against the newest signed head that covers it, with a
    consistency proof from the head of ``old_size`` trades when asked."""
    tree = MerkleLog()
    core = None
    found = None
    heads: dict[int, TreeHead] = {}
    public_key = b""
    for frame in read_frames(data_dir / "journal"):
        record = decode_record(frame.body)
        kind = type(record)
        if kind is Sequenced:
            for event in core.apply(record.cmd, record.seq, record.ts):
                if type(event) is Trade:
                    if event.trade_id == trade_id:
                        found = (event, len(tree))
                    tree.append(trade_leaf(event))
        elif kind is TreeHead:
            heads[record.tree_size] = record
        elif kind is Genesis:
            core = fresh_core(record)
            public_key = record.sth_public_key
    if found is None:
        raise LookupError(f"no trade {trade_id} in the journal")
    trade, leaf_index = found
    covering = [size for size in heads if size > leaf_index]
    if not covering:
        raise LookupError(f"trade {trade_id} is not under a signed tree head yet")
    head = heads[max(covering)]
    old = None
    if old_size:
        if old_size not in heads:
            raise LookupError(f"no signed tree head of size {old_size}")
        old = heads[old_size]
    return make_receipt(tree, trade, leaf_index, head, public_key, old)
