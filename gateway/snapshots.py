"""Snapshots: the whole state after one sequence number, in one file, written atomically.

Public names: :class:`SnapshotHeader`, :func:`capture_core`,
:func:`restore_core`, :func:`write_snapshot`, :func:`read_snapshot`, :func:`snapshot_files`.

A snapshot is a cut between two batches of the one-threaded server, so it is consistent with
no pause beyond its own writing. File layout: the magic ``IPXSNAP1``, a uint32 big-endian
header length, a msgpack :class:`SnapshotHeader`, then the payload. The payload is a pickle
of the core's books (every order with its hidden iceberg quantity, pending stops, GTD index,
phases, reference and last prices, instrument configuration), its id and sequence counters,
the risk engine (credit, reservations, exposures, holdings, FX, kill switches) and the
Merkle tree of trades, plus the gateway's client-order-id state as msgpack and the state
of each durable event sink (the market-data publisher's sequence numbers, depth windows,
bars and statistics), taken at the same cut.

Why pickle: the risk engine is a graph of shared objects (positions point at accounts and
terms, terms at books) that pickle keeps exact with no per-class code to drift out of date;
the fingerprint check after loading proves the restore exact. A pickle can run code, so it
is only ever loaded after its SHA-256 matched a :class:`~gateway.records.SnapshotTaken`
record inside the journal's hash chain, and with an unpickler that admits only this
project's classes and plain containers. Snapshots only speed recovery up: auditors and
``ipx verify`` replay the journal from its first record and never read them.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import struct
from pathlib import Path

import msgspec

from engine.core import Core
from gateway.merkle import MerkleLog
from gateway.wal import Position, fsync_dir

MAGIC = b"IPXSNAP1"
_LENGTH = struct.Struct(">I")
SUFFIX = ".snap"
STATE_FORMAT = 4
"""The layout of the pickled classes. Bump it whenever a pickled class of the core, risk,
gateway or feed gains, loses or renames an attribute: an older snapshot is then refused by
name (the journal replays instead) rather than failing somewhere inside the restore."""
_ALLOWED_MODULES = ("engine.", "risk.", "gateway.", "marketdata.", "sortedcontainers.")
_ALLOWED_NAMES = {
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "bytearray"),
    ("builtins", "object"),
    ("collections", "OrderedDict"),
    ("collections", "deque"),
    ("datetime", "date"),
    ("datetime", "datetime"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("copyreg", "_reconstructor"),
}


class SnapshotHeader(msgspec.Struct, frozen=True, array_like=True):
    """Which state the file holds and where the journal continues after it."""

    seq: int
    fingerprint: str
    position: Position
    """The journal record after the cut: replay starts here."""
    payload_sha256: bytes
    state_format: int = 0
    """:data:`STATE_FORMAT` of the code that wrote it (0: written before it was recorded)."""


class _CoreRef:
    """Stands for the core inside the pickle: the risk engine points back at its core."""


class _Pickler(pickle.Pickler):
    def __init__(self, file, core: Core) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._core = core

    def persistent_id(self, obj):
        return "core" if obj is self._core else None


class _Unpickler(pickle.Unpickler):
    """Loads only this project's classes, sortedcontainers and plain containers."""

    def find_class(self, module: str, name: str):
        if module.startswith(_ALLOWED_MODULES) or (module, name) in _ALLOWED_NAMES:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"snapshot may not load {module}.{name}")

    def persistent_load(self, pid):
        if pid != "core":
            raise pickle.UnpicklingError(f"unknown reference {pid!r}")
        return _CoreRef


def capture_core(
    core: Core, tree: MerkleLog | None, gateway: bytes, sinks: dict[str, object] | None = None
) -> bytes:
    """The payload: everything ``Core.fingerprint`` covers, the trade tree, the gateway, and
    the sinks' states by key (pickled with the books, so a sink's references to them hold)."""
    state = {
        "books": core.books,
        "last_order_id": core.last_order_id,
        "id_gaps": core.id_gaps,
        "last_seq": core.last_seq,
        "last_trade_id": core.matcher.last_trade_id,
        "risk": core.risk,
        "tree": tree,
        "gateway": gateway,
        "sinks": sinks or {},
    }
    buffer = io.BytesIO()
    _Pickler(buffer, core).dump(state)
    return buffer.getvalue()


def restore_core(payload: bytes) -> tuple[Core, MerkleLog | None, bytes, dict[str, object]]:
    """Rebuild the core, the trade tree, the gateway's msgpack state and the sinks' states."""
    state = _Unpickler(io.BytesIO(payload)).load()
    core = Core((), risk=state["risk"])  # wires the risk engine's commands to this core
    core.books = state["books"]
    core.last_order_id = state["last_order_id"]
    core.id_gaps = state["id_gaps"]
    core.last_seq = state["last_seq"]
    core.matcher.last_trade_id = state["last_trade_id"]
    return core, state["tree"], state["gateway"], state.get("sinks", {})


def write_snapshot(directory: Path, header_fields: tuple, payload: bytes) -> tuple[str, bytes]:
    """Write ``{seq}.snap`` through a temporary file, fsync and rename; return its name and
    SHA-256. ``header_fields`` is ``(seq, fingerprint, position)``."""
    directory.mkdir(parents=True, exist_ok=True)
    header = msgspec.msgpack.encode(
        SnapshotHeader(*header_fields, hashlib.sha256(payload).digest(), STATE_FORMAT)
    )
    data = MAGIC + _LENGTH.pack(len(header)) + header + payload
    name = f"{header_fields[0]:016d}{SUFFIX}"
    temporary = directory / (name + ".tmp")
    with temporary.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, directory / name)
    fsync_dir(directory)
    return name, hashlib.sha256(data).digest()


def read_snapshot(path: Path) -> tuple[SnapshotHeader, bytes, bytes]:
    """The header, the payload and the whole file's SHA-256; ValueError if malformed or
    written in another :data:`STATE_FORMAT`."""
    data = path.read_bytes()
    if data[: len(MAGIC)] != MAGIC:
        raise ValueError(f"{path.name}: not a snapshot")
    start = len(MAGIC) + _LENGTH.size
    (length,) = _LENGTH.unpack_from(data, len(MAGIC))
    header = msgspec.msgpack.decode(data[start : start + length], type=SnapshotHeader)
    if header.state_format != STATE_FORMAT:
        raise ValueError(f"{path.name}: state format {header.state_format}, this code reads "
                         f"{STATE_FORMAT}")
    payload = data[start + length :]
    if hashlib.sha256(payload).digest() != header.payload_sha256:
        raise ValueError(f"{path.name}: payload does not match its digest")
    return header, payload, hashlib.sha256(data).digest()


def snapshot_files(directory: Path) -> list[Path]:
    """Snapshot files, newest first."""
    return sorted(directory.glob("*" + SUFFIX), reverse=True)
