"""RFC 6962 tree: known answers, agreement with the RFC's recursive definitions, and proofs
that verify when honest and fail when anything is altered."""

from hashlib import sha256

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.merkle import (
    EMPTY_ROOT,
    MerkleLog,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

# Test data published with RFC 6962's reference implementations (transparency-dev/merkle
# testonly): leaves, then MTH for sizes 0..8 and some proofs.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CT_CONSISTENCY = {
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
    (2, 8): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}


# Naive transcriptions of RFC 6962 §2.1, written with hashlib only, as the oracle.
def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(data: list[bytes]) -> bytes:
    if not data:
        return sha256(b"").digest()
    if len(data) == 1:
        return sha256(b"\x00" + data[0]).digest()
    k = _split(len(data))
    return sha256(b"\x01" + naive_mth(data[:k]) + naive_mth(data[k:])).digest()


def naive_path(m: int, data: list[bytes]) -> list[bytes]:
    if len(data) == 1:
        return []
    k = _split(len(data))
    if m < k:
        return [*naive_path(m, data[:k]), naive_mth(data[k:])]
    return [*naive_path(m - k, data[k:]), naive_mth(data[:k])]


def naive_subproof(m: int, data: list[bytes], whole: bool) -> list[bytes]:
    n = len(data)
    if m == n:
        return [] if whole else [naive_mth(data)]
    k = _split(n)
    if m <= k:
        return [*naive_subproof(m, data[:k], whole), naive_mth(data[k:])]
    return [*naive_subproof(m - k, data[k:], False), naive_mth(data[:k])]


def make_log(data: list[bytes]) -> MerkleLog:
    log = MerkleLog()
    for d in data:
        log.append(d)
    return log


def flip(b: bytes, pos: int = 0) -> bytes:
    return b[:pos] + bytes([b[pos] ^ 0x01]) + b[pos + 1 :]


DATA_70 = [i.to_bytes(2, "big") * (i % 5) for i in range(70)]  # includes empty leaves
LOG_70 = make_log(DATA_70)
ROOTS_70 = [naive_mth(DATA_70[:n]) for n in range(71)]
SMALL = 40


def test_hash_known_answers() -> None:
    assert EMPTY_ROOT.hex() == CT_ROOTS[0]
    assert MerkleLog().root().hex() == CT_ROOTS[0]
    assert leaf_hash(b"").hex() == CT_ROOTS[1]
    assert node_hash(leaf_hash(b""), leaf_hash(b"\x00")).hex() == CT_ROOTS[2]


def test_roots_match_rfc6962_vectors() -> None:
    log = make_log(CT_LEAVES)
    assert [log.root(n).hex() for n in range(9)] == CT_ROOTS


def test_proofs_match_rfc6962_vectors() -> None:
    log = make_log(CT_LEAVES)
    for (index, size), want in CT_INCLUSION.items():
        proof = log.inclusion_proof(index, size)
        assert [p.hex() for p in proof] == want
        root = bytes.fromhex(CT_ROOTS[size])
        assert verify_inclusion(leaf_hash(CT_LEAVES[index]), index, size, proof, root)
    for (m, n), want in CT_CONSISTENCY.items():
        proof = log.consistency_proof(m, n)
        assert [p.hex() for p in proof] == want
        old, new = bytes.fromhex(CT_ROOTS[m]), bytes.fromhex(CT_ROOTS[n])
        assert verify_consistency(m, n, old, new, proof)


def test_root_equals_naive_mth_for_every_size() -> None:
    incremental = MerkleLog()
    for n, d in enumerate(DATA_70, start=1):
        assert incremental.append(d) == n - 1
        assert len(incremental) == n
        assert incremental.root() == ROOTS_70[n]
    assert [LOG_70.root(n) for n in range(71)] == ROOTS_70


def test_every_inclusion_proof_is_rfc_path_and_verifies() -> None:
    for n in range(1, SMALL + 1):
        for i in range(n):
            proof = LOG_70.inclusion_proof(i, n)
            assert proof == naive_path(i, DATA_70[:n])
            assert verify_inclusion(leaf_hash(DATA_70[i]), i, n, proof, ROOTS_70[n])


def test_every_consistency_proof_is_rfc_proof_and_verifies() -> None:
    for n in range(SMALL + 1):
        for m in range(n + 1):
            proof = LOG_70.consistency_proof(m, n)
            want = naive_subproof(m, DATA_70[:n], True) if 0 < m < n else []
            assert proof == want
            assert verify_consistency(m, n, ROOTS_70[m], ROOTS_70[n], proof)


def test_inclusion_rejects_any_alteration() -> None:
    for n in range(1, SMALL + 1):
        root = ROOTS_70[n]
        for i in range(n):
            leaf = leaf_hash(DATA_70[i])
            proof = LOG_70.inclusion_proof(i, n)
            assert not verify_inclusion(leaf_hash(DATA_70[i] + b"x"), i, n, proof, root)
            assert not verify_inclusion(leaf, i, n, proof, flip(root))
            for k in range(len(proof)):
                tampered = [*proof[:k], flip(proof[k], k), *proof[k + 1 :]]
                assert not verify_inclusion(leaf, i, n, tampered, root)
            for j in range(n + 1):
                if j != i:
                    assert not verify_inclusion(leaf, j, n, proof, root)
            for other in (n - 1, n + 1):  # another tree size, checked against that tree's root
                assert not verify_inclusion(leaf, i, other, proof, ROOTS_70[other])
            if proof:
                assert not verify_inclusion(leaf, i, n, proof[:-1], root)
                assert not verify_inclusion(leaf, i, n, proof[1:], root)
            assert not verify_inclusion(leaf, i, n, [*proof, root], root)


def test_size_is_bound_by_the_sth_not_the_proof() -> None:
    """RFC 9162 proofs do not commit to the size: leaf 0's size-3 path also fits size 4.

    So a verifier must take size and root from the same verified signed tree head.
    """
    leaf, proof, root3 = leaf_hash(DATA_70[0]), LOG_70.inclusion_proof(0, 3), ROOTS_70[3]
    assert verify_inclusion(leaf, 0, 4, proof, root3)
    assert not verify_inclusion(leaf, 0, 4, proof, ROOTS_70[4])


def test_proof_cannot_be_reread_for_the_right_subtree() -> None:
    """A path ending in the left subtree's root must not pass as a proof in the right subtree.

    Dropping the "if sn is 0, fail" step of RFC 9162 §2.1.3.2 (4a) / §2.1.4.2 (6a) would
    accept these against the same signed root.
    """
    for n in range(2, SMALL + 1):
        k, root = _split(n), ROOTS_70[n]
        for i in range(k, n):
            proof = LOG_70.inclusion_proof(i, n)
            assert not verify_inclusion(leaf_hash(DATA_70[i]), i - k, n - k, proof, root)
        for m in range(k + 1, n):
            proof = LOG_70.consistency_proof(m, n)
            assert not verify_consistency(m - k, n - k, ROOTS_70[m], root, proof)


def test_consistency_proof_cannot_claim_a_taller_tree() -> None:
    """The final "sn is 0" check of RFC 9162 §2.1.4.2 (7): the proof must reach the top."""
    for n in range(2, SMALL + 1):
        taller = 1 << (n - 1).bit_length()  # sizes above this need one more level
        for m in range(1, n):
            proof = LOG_70.consistency_proof(m, n)
            for n2 in (taller + 1, 2 * taller, 70):
                assert not verify_consistency(m, n2, ROOTS_70[m], ROOTS_70[n], proof)


def test_inclusion_rejects_impossible_index_or_size() -> None:
    leaf = leaf_hash(DATA_70[0])
    assert not verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(leaf, -1, 1, [], leaf)
    assert not verify_inclusion(leaf, 1, 1, [], leaf)
    assert verify_inclusion(leaf, 0, 1, [], leaf)


def test_consistency_rejects_any_alteration() -> None:
    for n in range(2, SMALL + 1):
        new = ROOTS_70[n]
        for m in range(1, n):
            old = ROOTS_70[m]
            proof = LOG_70.consistency_proof(m, n)
            assert not verify_consistency(m, n, new, old, proof)  # swapped roots
            assert not verify_consistency(m, n, flip(old), new, proof)
            assert not verify_consistency(m, n, old, flip(new), proof)
            for k in range(len(proof)):
                tampered = [*proof[:k], flip(proof[k], k), *proof[k + 1 :]]
                assert not verify_consistency(m, n, old, new, tampered)
            assert not verify_consistency(m, n, old, new, proof[:-1])
            assert not verify_consistency(m, n, old, new, proof[1:])
            assert not verify_consistency(m, n, old, new, [*proof, new])
            for m2 in range(n + 1):
                if m2 != m:
                    assert not verify_consistency(m2, n, ROOTS_70[m2], new, proof)
            for n2 in (n - 1, n + 1):
                assert not verify_consistency(m, n2, old, ROOTS_70[n2], proof)


def test_consistency_edge_sizes() -> None:
    r4, r5 = ROOTS_70[4], ROOTS_70[5]
    assert verify_consistency(4, 4, r4, r4, [])
    assert not verify_consistency(4, 4, r4, r5, [])
    assert not verify_consistency(4, 5, r4, r4, [])  # two sizes signed with one root
    assert not verify_consistency(4, 4, r4, r4, [r4])
    assert verify_consistency(0, 5, EMPTY_ROOT, r5, [])
    assert not verify_consistency(0, 5, r4, r5, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, r5, [r5])
    assert not verify_consistency(5, 4, r5, r4, LOG_70.consistency_proof(4, 5))
    assert not verify_consistency(-1, 4, EMPTY_ROOT, r4, [])


@pytest.mark.parametrize(
    "call",
    [
        lambda log: log.root(9),
        lambda log: log.root(-1),
        lambda log: log.inclusion_proof(8, 8),
        lambda log: log.inclusion_proof(-1, 8),
        lambda log: log.inclusion_proof(0, 9),
        lambda log: log.consistency_proof(5, 3),
        lambda log: log.consistency_proof(-1, 3),
        lambda log: log.consistency_proof(0, 9),
    ],
)
def test_generators_refuse_sizes_the_log_does_not_have(call) -> None:
    with pytest.raises(ValueError):
        call(make_log(CT_LEAVES))


leaf_sets = st.lists(st.binary(max_size=40), min_size=1, max_size=80)


@given(data=leaf_sets, picks=st.data())
def test_random_logs_agree_with_rfc_and_verify(data: list[bytes], picks: st.DataObject) -> None:
    log = make_log(data)
    n = picks.draw(st.integers(1, len(data)), label="size")
    i = picks.draw(st.integers(0, n - 1), label="index")
    m = picks.draw(st.integers(0, n), label="old size")
    root_n, root_m = log.root(n), log.root(m)
    assert root_n == naive_mth(data[:n])
    assert root_m == naive_mth(data[:m])
    assert verify_inclusion(leaf_hash(data[i]), i, n, log.inclusion_proof(i, n), root_n)
    assert verify_consistency(m, n, root_m, root_n, log.consistency_proof(m, n))


@given(data=leaf_sets, picks=st.data())
def test_rewriting_history_is_detected(data: list[bytes], picks: st.DataObject) -> None:
    """Changing any leaf before the old size breaks consistency with the old root."""
    n = len(data)
    m = picks.draw(st.integers(1, n), label="old size")
    k = picks.draw(st.integers(0, m - 1), label="rewritten leaf")
    original = make_log(data)
    rewritten = make_log([*data[:k], data[k] + b"!", *data[k + 1 :]])
    old_root = original.root(m)
    assert rewritten.root(n) != original.root(n)
    proof = rewritten.consistency_proof(m, n)
    assert not verify_consistency(m, n, old_root, rewritten.root(n), proof)
    receipt = original.inclusion_proof(k, n)
    assert not verify_inclusion(leaf_hash(data[k]), k, n, receipt, rewritten.root(n))
