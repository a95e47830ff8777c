"""The write-ahead log on disk: segment files of framed, CRC-checked, hash-chained records.

Public names: :class:`WalWriter`, :func:`read_frames`, :class:`Frame`, :class:`Position`,
:class:`CorruptJournal`, :data:`FSYNC_POLICIES`.

A segment is ``{index of its first record:016d}.wal``: the 8-byte magic ``IPXWAL01``, then
frames. A frame is a 40-byte header and a body (one msgpack record, :mod:`gateway.records`)::

    offset  size  field
    0       4     body length, uint32 big-endian
    4       4     CRC-32 (zlib) of prev_hash || body
    8       32    prev_hash: SHA-256 chain value of every record before this one
    40      n     body

The CRC finds torn and decayed writes; the chain (:mod:`gateway.evidence`) finds edits, since
a forger must rewrite every later record's ``prev_hash`` too. A batch of records is written
with one ``write`` and made durable with one ``fdatasync`` (group commit).

On opening, a bad frame in the last segment is the torn tail of a write that never finished
its fsync, so never acknowledged: it and everything after it are cut off (and kept in a
``.torn`` file beside the segment for inspection). A bad frame in an earlier segment is
decay or tampering: :class:`CorruptJournal`, and the server refuses to start.
"""

from __future__ import annotations

import os
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec

from gateway.evidence import GENESIS_PREV, chain_hash

MAGIC = b"IPXWAL01"
HEADER = struct.Struct(">II32s")
MAX_BODY = 64 << 20
"""A larger length field is corruption, not a record (records are a few hundred bytes)."""
FSYNC_POLICIES = ("batch", "interval", "none")
SUFFIX = ".wal"


class CorruptJournal(Exception):
    """A record failed its CRC or framing where no write can have been torn."""

    def __init__(self, index: int, segment: Path, offset: int, why: str) -> None:
        super().__init__(f"record {index} ({segment.name} at byte {offset}): {why}")
        self.index = index
        self.segment = segment
        self.offset = offset
        self.why = why


class Position(msgspec.Struct, frozen=True, array_like=True):
    """Where a record starts: its segment (by first record index), byte offset, index."""

    segment: int
    offset: int
    index: int


class Frame(msgspec.Struct, frozen=True, gc=False):
    """One record as read back: where it is, the chain value it stores, and its body."""

    index: int
    segment: Path
    offset: int
    prev: bytes
    body: bytes


def segment_name(first_index: int) -> str:
    return f"{first_index:016d}{SUFFIX}"


def segments(directory: Path) -> list[Path]:
    """The journal's segment files in record order."""
    return sorted(directory.glob("*" + SUFFIX))


def read_frames(directory: Path, start: Position | None = None) -> Iterator[Frame]:
    """Every frame from ``start`` (default: the first), checking framing and CRC only.

    Raises :class:`CorruptJournal` at the first bad frame; a caller that tolerates a torn
    tail opens a :class:`WalWriter` first, which cuts it.
    """
    for path in segments(directory):
        first = int(path.stem)
        if start is not None and first < start.segment:
            continue
        data = path.read_bytes()
        offset, index = len(MAGIC), first
        if start is not None and first == start.segment:
            offset, index = start.offset, start.index
        yield from _frames(data, path, offset, index, strict=True)


def _frames(data: bytes, path: Path, offset: int, index: int, strict: bool) -> Iterator[Frame]:
    """Parse frames from ``offset``; stop (or raise, when ``strict``) at the first bad one."""
    if data[: len(MAGIC)] != MAGIC:
        if strict:
            raise CorruptJournal(index, path, 0, "not a journal segment (bad magic)")
        return
    end = len(data)
    unpack = HEADER.unpack_from
    crc32 = zlib.crc32
    size = HEADER.size
    while offset < end:  # the hot loop of every replay: the good frame takes the shortest path
        if end - offset < size:
            why = "truncated header"
        else:
            length, crc, prev = unpack(data, offset)
            body_at = offset + size
            stop = body_at + length
            if length > MAX_BODY or stop > end:
                why = "truncated body"
            else:
                body = data[body_at:stop]  # a copy is cheaper than a memoryview slice here
                if crc32(body, crc32(prev)) == crc:
                    yield Frame(index, path, offset, prev, body)
                    offset = stop
                    index += 1
                    continue
                why = "CRC mismatch"
        if strict:
            raise CorruptJournal(index, path, offset, why)
        return


class WalWriter:
    """Appends batches of records to the newest segment; rotates segments by size.

    ``fsync`` is ``"batch"`` (one fdatasync per batch, before it is acknowledged: the
    default), ``"interval"`` (at most one per ``interval_ms``, and within it of the last write
    when the server loop calls :meth:`sync_if_due`; an acknowledged batch may be lost if the
    machine fails within the interval) or ``"none"`` (the OS decides; a process
    crash loses nothing, a power failure may).
    """

    def __init__(
        self,
        directory: Path,
        *,
        fsync: str = "batch",
        interval_ms: int = 5,
        segment_bytes: int = 64 << 20,
        ends_append: Callable[[bytes], bool] | None = None,
    ) -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"fsync must be one of {FSYNC_POLICIES}, not {fsync!r}")
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.policy = fsync
        self.interval_ns = interval_ms * 1_000_000
        self.segment_bytes = segment_bytes
        self.records = 0
        """How many records the journal holds (the index of the next one)."""
        self.head = GENESIS_PREV
        """The chain value after the last record: the ``prev_hash`` the next one stores."""
        self.torn_bytes = 0
        """Bytes cut off the tail when opening (a write that never finished)."""
        self._fd = -1
        self._segment = 0
        self._size = 0
        self._last_sync = 0
        self._unsynced = False
        """Under ``"interval"``: records written since the last fdatasync."""
        self.ends_append = ends_append
        """Whether a record body was the last of its :meth:`append` (the journal knows, from
        its records): lets opening tell a torn last append from decay before later ones."""
        self._open_tail()

    # -- opening ----------------------------------------------------------------------

    def _open_tail(self) -> None:
        """Find the last good record, cut anything torn after it, and continue its chain."""
        files = segments(self.directory)
        while files and files[-1].stat().st_size <= len(MAGIC):
            files.pop().unlink()  # created, but the crash came before its first record
        if not files:
            return
        path = files[-1]
        data = path.read_bytes()
        first = int(path.stem)
        last = None
        end = len(MAGIC)
        count = 0
        for frame in _frames(data, path, len(MAGIC), first, strict=False):
            last = frame
            end = frame.offset + HEADER.size + len(frame.body)
            count += 1
        if end < len(data):
            self._refuse_decay(data, path, end, first + count)
            self.torn_bytes = len(data) - end
            path.with_suffix(".torn").write_bytes(data[end:])
            with path.open("r+b") as f:
                f.truncate(end)
                os.fsync(f.fileno())
        if last is None:  # only the magic survived: reuse the file
            self.head = self._head_before(files[:-1])
        else:
            self.head = chain_hash(last.prev, last.body)
        self.records = first + count
        self._segment = first
        self._size = end
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)

    def _refuse_decay(self, data: bytes, path: Path, bad: int, index: int) -> None:
        """Raise :class:`CorruptJournal` if the bad frame at ``bad`` cannot be a torn write.

        Under ``"batch"`` an append is written only once the one before it is fsynced, so
        an intact record of a later append (after an intact record that ended an append)
        proves the bad frame was durable and acknowledged: decay, whose cut would drop
        acknowledged orders. A torn last append, even one whose pages reached the disk out
        of order, has no later append. When the bad frame's length cannot be trusted, or the
        policy lets several appends wait for one fsync, it is treated as torn.
        """
        if self.policy != "batch" or self.ends_append is None or len(data) - bad < HEADER.size:
            return
        length = HEADER.unpack_from(data, bad)[0]
        after = bad + HEADER.size + length
        if length > MAX_BODY or after > len(data):
            return
        closed = False
        for frame in _frames(data, path, after, index + 1, strict=False):
            if closed:
                why = f"CRC mismatch before acknowledged record {frame.index}: decay, not torn"
                raise CorruptJournal(index, path, bad, why)
            closed = self.ends_append(frame.body)

    def _head_before(self, earlier: list[Path]) -> bytes:
        """The chain value after the last record of the segments before an empty one."""
        head = GENESIS_PREV
        if earlier:
            first = int(earlier[-1].stem)
            for frame in read_frames(self.directory, Position(first, len(MAGIC), first)):
                head = chain_hash(frame.prev, frame.body)
        return head

    # -- writing ----------------------------------------------------------------------

    def position(self) -> Position:
        """Where the next record will start."""
        if self._fd < 0 or self._size >= self.segment_bytes:
            return Position(self.records, len(MAGIC), self.records)
        return Position(self._segment, self._size, self.records)

    def append(self, bodies: list[bytes]) -> None:
        """Write the records in one system call; return once durable under the policy."""
        if not bodies:
            return
        if self._fd < 0 or self._size >= self.segment_bytes:
            self._rotate()
        head = self.head
        crc32 = zlib.crc32
        pack = HEADER.pack
        parts = []
        for body in bodies:
            parts.append(pack(len(body), crc32(body, crc32(head)), head))
            parts.append(body)
            head = chain_hash(head, body)
        data = b"".join(parts)
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        self.head = head
        self.records += len(bodies)
        self._size += len(data)
        policy = self.policy
        if policy == "batch":
            os.fdatasync(self._fd)
        elif policy == "interval":
            self._unsynced = True
            self.sync_if_due(time.monotonic_ns())

    def sync_if_due(self, now_mono_ns: int) -> None:
        """Under ``"interval"``, fdatasync what is written once the interval has passed: after
        each batch, and from the server loop when idle, so a batch followed by silence is
        durable within the interval too."""
        if self._unsynced and now_mono_ns - self._last_sync >= self.interval_ns:
            os.fdatasync(self._fd)
            self._last_sync = now_mono_ns
            self._unsynced = False

    def _rotate(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
        path = self.directory / segment_name(self.records)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        os.write(self._fd, MAGIC)
        os.fsync(self._fd)
        fsync_dir(self.directory)
        self._segment = self.records
        self._size = len(MAGIC)

    def close(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1


def fsync_dir(directory: Path) -> None:
    """Make a directory's new or renamed entries durable (a file's fsync does not)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
