"""Journal hash chain: an edit to record k is reported at k."""

from hashlib import sha256

from hypothesis import given
from hypothesis import strategies as st

from gateway.evidence import GENESIS_PREV, chain_hash, find_chain_break

RECORDS = [f"record {i}: buy 10 @ {100 + i}".encode() for i in range(12)]


def build_chain(records: list[bytes]) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """(record, stored prev hash) entries as the journal writes them, and the head."""
    entries, prev = [], GENESIS_PREV
    for record in records:
        entries.append((record, prev))
        prev = chain_hash(prev, record)
    return entries, prev


def edit_record(entries: list[tuple[bytes, bytes]], k: int, pos: int) -> list[tuple[bytes, bytes]]:
    record, prev = entries[k]
    pos %= len(record)
    edited = record[:pos] + bytes([record[pos] ^ 0x01]) + record[pos + 1 :]
    return [*entries[:k], (edited, prev), *entries[k + 1 :]]


def test_chain_hash_known_answers() -> None:
    assert bytes(32) == GENESIS_PREV
    assert chain_hash(GENESIS_PREV, b"").hex() == (
        "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"  # SHA-256(32 zeros)
    )
    assert chain_hash(b"a", b"bc") == sha256(b"abc").digest()


def test_intact_chain_has_no_break() -> None:
    entries, head = build_chain(RECORDS)
    assert find_chain_break(entries) is None
    assert find_chain_break(entries, head=head) is None
    assert find_chain_break(iter(entries), head=head) is None  # streams, e.g. from disk
    assert find_chain_break([]) is None
    assert find_chain_break([], head=GENESIS_PREV) is None


def test_edited_record_is_reported_at_its_index() -> None:
    entries, head = build_chain(RECORDS)
    for k in range(len(RECORDS)):
        assert find_chain_break(edit_record(entries, k, 3), head=head) == k
        if k < len(RECORDS) - 1:
            assert find_chain_break(edit_record(entries, k, 3)) == k


def test_last_record_needs_the_head() -> None:
    entries, head = build_chain(RECORDS)
    last = len(RECORDS) - 1
    assert find_chain_break(edit_record(entries, last, 0)) is None
    assert find_chain_break(edit_record(entries, last, 0), head=head) == last


def test_edited_prev_hash_is_reported_at_the_link_it_breaks() -> None:
    entries, head = build_chain(RECORDS)
    for k in range(len(RECORDS)):
        record, prev = entries[k]
        bad = [*entries[:k], (record, bytes([prev[0] ^ 0x01]) + prev[1:]), *entries[k + 1 :]]
        assert find_chain_break(bad, head=head) == max(k - 1, 0)


def test_deletion_and_truncation() -> None:
    entries, head = build_chain(RECORDS)
    assert find_chain_break([*entries[:4], *entries[5:]], head=head) == 3
    assert find_chain_break(entries[1:], head=head) == 0
    assert find_chain_break(entries[:7]) is None  # undetectable without the head
    assert find_chain_break(entries[:7], head=head) == 6
    assert find_chain_break([], head=head) == 0


def test_consistent_suffix_rewrite_is_caught_only_by_the_head() -> None:
    _, head = build_chain(RECORDS)
    forged, forged_head = build_chain([*RECORDS[:5], b"forged", *RECORDS[6:]])
    assert find_chain_break(forged) is None
    assert find_chain_break(forged, head=forged_head) is None
    assert find_chain_break(forged, head=head) == len(RECORDS) - 1


@given(
    records=st.lists(st.binary(min_size=1, max_size=64), min_size=1, max_size=40),
    picks=st.data(),
)
def test_any_one_byte_edit_is_located(records: list[bytes], picks: st.DataObject) -> None:
    entries, head = build_chain(records)
    k = picks.draw(st.integers(0, len(records) - 1), label="record")
    pos = picks.draw(st.integers(0, 63), label="byte")
    assert find_chain_break(edit_record(entries, k, pos), head=head) == k
