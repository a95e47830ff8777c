"""What a journal record holds: the schema a replay, an auditor or a court decodes.

Public types: :class:`Genesis`, :class:`Origin`, :class:`Sequenced`, :class:`TreeHead`,
:class:`SnapshotTaken`, their union :data:`AnyRecord`; :func:`encode_record`,
:func:`decode_record`, :func:`trade_leaf`.

Every record is a msgpack array whose first item is a tag (the class name), like the engine's
own commands, so any msgpack decoder can read a journal without this code. Fields are only
ever appended, with defaults (msgspec's evolution rules), so old journals stay readable.
"""

from __future__ import annotations

import msgspec

from engine.instruments import Instrument
from engine.messages import Trade
from engine.schema import ExchangeCommand

FORMAT_VERSION = 1


class Record(msgspec.Struct, tag=True, frozen=True, gc=False, array_like=True):
    """Base of every journal record; tagged by class name."""


class Genesis(Record, frozen=True):
    """The first record: what the core started from, so the journal replays on its own.

    ``sth_public_key`` names the key the exchange signs tree heads with; an auditor should
    still pin it out of band (``ipx verify --key``), since whoever wrote this could lie.
    """

    version: int
    instruments: list[Instrument]
    risk_enabled: bool
    sth_public_key: bytes = b""
    created_ns: int = 0
    """When the journal began: the market-data feed's epoch, kept across restarts (0 in
    journals written before batch boundaries were recorded)."""


class Origin(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """The wire context of a command: which client request, so a replay rebuilds the
    gateway's client-order-id maps and routes later fills of old orders to their owners."""

    kind: int
    cl_ord_id: int = 0
    orig_cl_ord_id: int = 0
    side: int = 0


class Sequenced(Record, frozen=True):
    """One sequenced command exactly as ``Core.apply`` received it, plus its origin.

    ``batch_end`` marks the last command of a group commit: the market-data feed publishes
    once per batch, so a replay needs the boundaries to number the feed as it was numbered.
    """

    seq: int
    ts: int
    cmd: ExchangeCommand
    origin: Origin | None = None
    batch_end: bool = False


class TreeHead(Record, frozen=True):
    """A signed tree head over the trades so far, and a signed head of this journal.

    ``signature`` is the RFC 6962-style STH signature (:mod:`gateway.signing`);
    ``chain_signature`` signs ``records`` and ``chain_head`` (the hash chain value after the
    record before this one), so truncating or rewriting the journal's tail up to here is
    detectable by anyone holding the public key.
    """

    tree_size: int
    timestamp_ns: int
    root: bytes
    signature: bytes
    records: int
    chain_head: bytes
    chain_signature: bytes


class SnapshotTaken(Record, frozen=True):
    """A snapshot of the state after ``seq`` was written; ``digest`` is its file's SHA-256.

    Recovery loads a snapshot only if this record, inside the hash chain, vouches for it.
    """

    seq: int
    fingerprint: str
    name: str
    digest: bytes


AnyRecord = Genesis | Sequenced | TreeHead | SnapshotTaken

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(AnyRecord)
encode_record = _encoder.encode
decode_record = _decoder.decode


def ends_append(body: bytes) -> bool:
    """Whether a journal record was the last of its write: a group commit's last command, or
    any other record (genesis, tree heads and snapshot marks are written one at a time)."""
    record = decode_record(body)
    return type(record) is not Sequenced or record.batch_end


def trade_leaf(trade: Trade) -> bytes:
    """The Merkle leaf data of a trade: its event's canonical msgpack encoding."""
    return _encoder.encode(trade)
