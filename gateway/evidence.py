"""Hash chain linking journal records: each record stores the hash of everything before it.

A chain finds local edits while reading the journal back; proofs for third parties come
from the Merkle tree (gateway.merkle), whose proofs are O(log n) where a chain's are O(n)
(research notes §6). Tree heads are signed in gateway.signing.
"""

from collections.abc import Iterable
from hashlib import sha256

GENESIS_PREV = bytes(32)  # the stored prev hash of record 0


def chain_hash(prev_hash: bytes, record: bytes) -> bytes:
    """SHA-256(prev_hash || record): the prev hash the next record must store."""
    return sha256(prev_hash + record).digest()


def find_chain_break(
    entries: Iterable[tuple[bytes, bytes]], *, head: bytes | None = None
) -> int | None:
    """Index of the first (record, stored_prev_hash) entry whose link fails, or None.

    Entry i's link holds when chain_hash(prev_i, record_i) equals the prev hash stored by
    entry i + 1 (for the last entry: `head`, the chain hash kept or published separately)
    and, for entry 0, prev_0 is GENESIS_PREV. So an edited record k is reported at k, and
    an edited stored prev hash of entry k at k - 1. Without `head` the last record cannot
    be checked, and neither can a rewrite of a whole suffix or a truncation; with it these
    are reported at the last entry (0 for an empty sequence).
    """
    index = -1
    link_out = GENESIS_PREV
    for index, (record, stored_prev) in enumerate(entries):
        if stored_prev != link_out:
            return max(index - 1, 0)
        link_out = chain_hash(stored_prev, record)
    if head is not None and head != link_out:
        return max(index, 0)
    return None
