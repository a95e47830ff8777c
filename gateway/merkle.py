"""RFC 6962 Merkle tree: an append-only log, its proofs, and log-free proof verification.

The journal appends one leaf per record; participants holding only a receipt (leaf hash,
index, proof, signed root) check it with `verify_inclusion` / `verify_consistency`, which
follow RFC 9162 §2.1.3.2 and §2.1.4.2 step by step.
"""

from collections.abc import Sequence
from hashlib import sha256

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()  # MTH({}) = HASH() (RFC 6962 §2.1)


def leaf_hash(data: bytes) -> bytes:
    """HASH(0x00 || d): the 0x00 prefix keeps a leaf from passing as an interior node (§2.1)."""
    return sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """HASH(0x01 || left || right), the interior-node hash of RFC 6962 §2.1."""
    return sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly less than n (n >= 2): the k of RFC 6962 §2.1."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleLog:
    """Append-only RFC 6962 tree over SHA-256.

    `_levels[h][j]` is the root of the complete subtree of leaves [j·2^h, (j+1)·2^h). Each
    such root is fixed once its last leaf arrives, so append stores it then (O(1) amortised,
    O(log n) worst case). Every range the RFC 6962 recursion names splits into at most
    log2(n) of these subtrees, so a root of any size and every proof element costs O(log n)
    hashes, at a memory cost of under two hashes per leaf.
    """

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = [[]]

    def __len__(self) -> int:
        return len(self._levels[0])

    def append(self, data: bytes) -> int:
        """Add a leaf for `data`; return its index (the journal sequence number)."""
        index = len(self)
        node = leaf_hash(data)
        self._levels[0].append(node)
        height, pos = 0, index
        while pos & 1:  # the new leaf completes a subtree at each trailing 1 bit of index
            node = node_hash(self._levels[height][pos - 1], node)
            height, pos = height + 1, pos >> 1
            if height == len(self._levels):
                self._levels.append([])
            self._levels[height].append(node)
        return index

    def root(self, size: int | None = None) -> bytes:
        """MTH(D[0:size]) (RFC 6962 §2.1); the current root when size is None."""
        size = len(self) if size is None else size
        self._check_size(size)
        return self._mth(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 6962 §2.1.1 (RFC 9162 §2.1.3.1), leaf level first."""
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} outside tree of size {size}")
        path: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                path.append(self._mth(lo + k, hi))
                hi = lo + k
            else:
                path.append(self._mth(lo, lo + k))
                lo += k
        path.reverse()  # PATH appends the sibling after the deeper sub-path
        return path

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """PROOF(m, D[0:n]) = SUBPROOF(m, D[n], true) of RFC 6962 §2.1.2 (RFC 9162 §2.1.4.1).

        RFC 9162 defines it for 0 < m < n; for m == 0 or m == n the proof is empty, as in
        transparency-dev/merkle.
        """
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"old size {old_size} not within 0..{new_size}")
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        m, lo, hi = old_size, 0, new_size
        whole_old_tree = True  # the `b` flag of SUBPROOF
        while m != hi - lo:
            k = _split(hi - lo)
            if m <= k:
                proof.append(self._mth(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._mth(lo, lo + k))
                lo, m, whole_old_tree = lo + k, m - k, False
        if not whole_old_tree:
            proof.append(self._mth(lo, hi))
        proof.reverse()
        return proof

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= len(self):
            raise ValueError(f"size {size} outside 0..{len(self)}")

    def _mth(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a non-empty range the RFC 6962 recursion produces.

        Such a range starts on a multiple of the power of two covering its width, so its
        RFC split is exactly the binary decomposition of the width into complete subtrees.
        """
        width, pos = end - start, start
        subtrees: list[bytes] = []
        for height in reversed(range(width.bit_length())):
            if width >> height & 1:
                subtrees.append(self._levels[height][pos >> height])
                pos += 1 << height
        root = subtrees.pop()
        while subtrees:
            root = node_hash(subtrees.pop(), root)
        return root


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True iff `proof` shows `leaf_hash` at `index` in the tree of `size` with `root`.

    RFC 9162 §2.1.3.2 verbatim; needs no log, only the receipt and a trusted root.
    """
    if not 0 <= index < size:  # step 1
        return False
    fn, sn, r = index, size - 1, leaf_hash  # steps 2-3
    for p in proof:  # step 4
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root  # step 5


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True iff `proof` shows the tree (`new_size`, `new_root`) extends (`old_size`, `old_root`).

    RFC 9162 §2.1.4.2 for 0 < old_size < new_size. Outside that range the RFC defines no
    proof, so (as transparency-dev/merkle) only an empty proof is accepted: equal sizes need
    equal roots, and size 0 needs the empty-tree root.
    """
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:  # step 1
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 2: old tree is a complete subtree of the new one
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0  # step 7
