"""The write-ahead log: framing, the hash chain across reopenings, torn tails, rotation."""

from __future__ import annotations

import os
import time

import pytest

from engine.messages import CancelOrder, Tick
from gateway.evidence import GENESIS_PREV, chain_hash, find_chain_break
from gateway.journal import FileJournal
from gateway.records import Origin, Sequenced, decode_record, ends_append
from gateway.wal import HEADER, CorruptJournal, WalWriter, read_frames, segments


def _write(directory, n: int, start: int = 1, **options) -> WalWriter:
    wal = WalWriter(directory, **options)
    journal = FileJournal(wal)
    for seq in range(start, start + n):
        journal.append([(seq, seq * 10, Tick(), None)])
    return wal


def test_append_when_reopened_then_records_read_back_and_chain_continues(tmp_path):
    _write(tmp_path, 3).close()
    wal = _write(tmp_path, 2, start=4)
    wal.close()

    frames = list(read_frames(tmp_path))
    records = [decode_record(f.body) for f in frames]

    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    head = frames[-1].prev
    assert chain_hash(head, bytes(frames[-1].body)) == wal.head
    pairs = [(bytes(f.body), f.prev) for f in frames]
    assert frames[0].prev == GENESIS_PREV
    assert find_chain_break(pairs, head=wal.head) is None


def test_sequenced_record_when_decoded_then_keeps_command_and_origin(tmp_path):
    wal = WalWriter(tmp_path)
    FileJournal(wal).append([(7, 70, CancelOrder("X", 3, "ALICE"), Origin(3, 11, 10))])
    wal.close()

    (frame,) = read_frames(tmp_path)

    assert decode_record(frame.body) == Sequenced(7, 70, CancelOrder("X", 3, "ALICE"),
                                                  Origin(3, 11, 10), batch_end=True)


def test_append_when_batch_of_three_then_only_its_last_record_ends_the_batch(tmp_path):
    wal = WalWriter(tmp_path)
    journal = FileJournal(wal)
    journal.append([(1, 10, Tick(), None), (2, 20, Tick(), None), (3, 30, Tick(), None)])
    journal.append([(4, 40, Tick(), None)])
    wal.close()

    records = [decode_record(f.body) for f in read_frames(tmp_path)]

    assert [(r.seq, r.batch_end) for r in records] == [
        (1, False), (2, False), (3, True), (4, True)
    ]


def test_open_when_last_record_torn_then_cut_and_kept_aside(tmp_path):
    _write(tmp_path, 3).close()
    (segment,) = segments(tmp_path)
    whole = segment.read_bytes()
    segment.write_bytes(whole[:-5])  # the last write never finished

    wal = WalWriter(tmp_path)

    assert wal.records == 2
    assert wal.torn_bytes > 0
    assert segment.with_suffix(".torn").exists()
    FileJournal(wal).append([(3, 30, Tick(), None)])
    wal.close()
    assert [decode_record(f.body).seq for f in read_frames(tmp_path)] == [1, 2, 3]


def _flip_body_of(directory, index: int) -> None:
    """Flip one byte inside record ``index``'s body, its length left intact."""
    frame = next(f for f in read_frames(directory) if f.index == index)
    data = bytearray(frame.segment.read_bytes())
    data[frame.offset + HEADER.size + 1] ^= 0xFF
    frame.segment.write_bytes(bytes(data))


def test_open_when_last_segment_decayed_before_later_appends_then_refused(tmp_path):
    _write(tmp_path, 6).close()  # six appends, each one fsynced before the next was written
    _flip_body_of(tmp_path, 2)
    (segment,) = segments(tmp_path)
    decayed = segment.read_bytes()

    with pytest.raises(CorruptJournal) as refused:
        WalWriter(tmp_path, ends_append=ends_append)

    assert refused.value.index == 2 and "decay" in refused.value.why
    assert segment.read_bytes() == decayed and not segment.with_suffix(".torn").exists()


@pytest.mark.parametrize("policy", ["batch", "interval"])
def test_open_when_a_record_of_the_last_append_is_bad_then_that_append_is_cut(tmp_path, policy):
    wal = _write(tmp_path, 3, fsync=policy, ends_append=ends_append)
    FileJournal(wal).append([(4, 40, Tick(), None), (5, 50, Tick(), None), (6, 60, Tick(), None)])
    wal.close()
    _flip_body_of(tmp_path, 3)  # its later pages reached the disk, this one did not

    wal = WalWriter(tmp_path, fsync=policy, ends_append=ends_append)

    assert (wal.records, wal.torn_bytes > 0) == (3, True)
    wal.close()


def test_open_when_decayed_under_interval_policy_then_cut_as_torn(tmp_path):
    _write(tmp_path, 6, fsync="interval").close()  # several appends may share one fsync
    _flip_body_of(tmp_path, 2)

    wal = WalWriter(tmp_path, fsync="interval", ends_append=ends_append)

    assert wal.records == 2
    wal.close()


def test_read_when_earlier_segment_decayed_then_names_the_record(tmp_path):
    _write(tmp_path, 6, segment_bytes=200).close()
    first, second = segments(tmp_path)[:2]
    last_in_first = int(second.stem) - 1
    data = bytearray(first.read_bytes())
    data[-3] ^= 0xFF  # inside the body of the first segment's last record
    first.write_bytes(bytes(data))

    with pytest.raises(CorruptJournal) as error:
        list(read_frames(tmp_path))

    assert error.value.why == "CRC mismatch"
    assert error.value.index == last_in_first


def test_segments_when_size_reached_then_rotate_named_by_first_record(tmp_path):
    _write(tmp_path, 10, segment_bytes=200).close()

    files = segments(tmp_path)

    assert len(files) > 1
    firsts = [int(f.stem) for f in files]
    assert firsts[0] == 0 and firsts == sorted(firsts)
    assert [decode_record(f.body).seq for f in read_frames(tmp_path)] == list(range(1, 11))


@pytest.mark.parametrize("policy", ["batch", "interval", "none"])
def test_each_fsync_policy_when_written_then_reads_back(tmp_path, policy):
    _write(tmp_path, 4, fsync=policy).close()
    assert len(list(read_frames(tmp_path))) == 4


def test_interval_policy_when_idle_after_a_write_then_synced_once_the_interval_passes(
    tmp_path, monkeypatch
):
    synced: list[int] = []
    fdatasync = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (synced.append(fd), fdatasync(fd))[1])
    wal = _write(tmp_path, 1, fsync="interval", interval_ms=1_000)  # the first: synced
    append = FileJournal(wal).append
    append([(2, 20, Tick(), None)])  # within the interval: written, not yet synced
    assert len(synced) == 1

    wal.sync_if_due(time.monotonic_ns())  # still within it
    assert len(synced) == 1
    wal.sync_if_due(time.monotonic_ns() + 1_000_000_000)  # the server loop, idle, later
    wal.sync_if_due(time.monotonic_ns() + 2_000_000_000)  # nothing new: nothing to sync
    assert len(synced) == 2
    wal.close()


def test_unknown_fsync_policy_is_refused(tmp_path):
    with pytest.raises(ValueError):
        WalWriter(tmp_path, fsync="sometimes")
