"""Signed tree heads: exact signed bytes, and rejection of any altered field or key."""

from collections.abc import Callable

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from msgspec.structs import replace

from gateway.signing import (
    SignedTreeHead,
    generate_keypair,
    sign_tree_head,
    tree_head_bytes,
    verify_tree_head,
)

# RFC 8032 §7.1 TEST 1 key pair, so the expected signature is reproducible anywhere.
RFC8032_PRIVATE = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
ROOT = bytes(range(32))
SIZE, TS = 1_000_003, 1_700_000_000_123_456_789


def test_signed_bytes_layout() -> None:
    want = bytes.fromhex(
        "01"  # version
        "01"  # signature type: tree head
        "00000000000f4243"  # tree_size 1_000_003
        "17979cfe3d85cd15"  # timestamp_ns 1_700_000_000_123_456_789
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"  # root
    )
    assert tree_head_bytes(SIZE, TS, ROOT) == want
    sth = sign_tree_head(RFC8032_PRIVATE, SIZE, TS, ROOT)
    assert sth == sign_tree_head(RFC8032_PRIVATE, SIZE, TS, ROOT)  # Ed25519 is deterministic
    Ed25519PrivateKey.from_private_bytes(RFC8032_PRIVATE).public_key().verify(sth.signature, want)


def test_keypair_is_raw_ed25519() -> None:
    private, public = generate_keypair()
    assert len(private) == len(public) == 32
    derived = Ed25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()
    assert derived == public
    assert generate_keypair()[0] != private


def test_sth_verifies_and_survives_wire_encoding() -> None:
    sth = sign_tree_head(RFC8032_PRIVATE, SIZE, TS, ROOT)
    assert (sth.tree_size, sth.timestamp_ns, sth.root) == (SIZE, TS, ROOT)
    assert verify_tree_head(RFC8032_PUBLIC, sth)
    for encode, decode in (
        (msgspec.json.encode, msgspec.json.decode),
        (msgspec.msgpack.encode, msgspec.msgpack.decode),
    ):
        assert verify_tree_head(RFC8032_PUBLIC, decode(encode(sth), type=SignedTreeHead))


def _flip_first_byte(b: bytes) -> bytes:
    return bytes([b[0] ^ 0x01]) + b[1:]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: replace(s, tree_size=s.tree_size + 1),
        lambda s: replace(s, tree_size=s.tree_size - 1),
        lambda s: replace(s, timestamp_ns=s.timestamp_ns + 1),
        lambda s: replace(s, root=_flip_first_byte(s.root)),
        lambda s: replace(s, root=s.root[:31] + b"\x80"),
        lambda s: replace(s, signature=_flip_first_byte(s.signature)),
        lambda s: replace(s, signature=s.signature[:63]),
        lambda s: replace(s, signature=b""),
    ],
)
def test_sth_fails_after_any_field_changes(
    tamper: Callable[[SignedTreeHead], SignedTreeHead],
) -> None:
    assert not verify_tree_head(
        RFC8032_PUBLIC, tamper(sign_tree_head(RFC8032_PRIVATE, SIZE, TS, ROOT))
    )


def test_sth_fails_with_another_key() -> None:
    sth = sign_tree_head(RFC8032_PRIVATE, SIZE, TS, ROOT)
    _, other_public = generate_keypair()
    assert not verify_tree_head(other_public, sth)
    assert not verify_tree_head(RFC8032_PUBLIC[:31], sth)
    assert not verify_tree_head(b"", sth)


def test_malformed_sth_is_a_failed_verification() -> None:
    sth = sign_tree_head(RFC8032_PRIVATE, SIZE, TS, ROOT)
    for change in ({"tree_size": -1}, {"timestamp_ns": 1 << 64}, {"root": ROOT[:31]}):
        assert not verify_tree_head(RFC8032_PUBLIC, replace(sth, **change))


@pytest.mark.parametrize(
    ("size", "ts", "root"),
    [(-1, TS, ROOT), (1 << 64, TS, ROOT), (SIZE, -1, ROOT), (SIZE, TS, ROOT + b"\x00")],
)
def test_signing_refuses_unencodable_fields(size: int, ts: int, root: bytes) -> None:
    with pytest.raises(ValueError):
        sign_tree_head(RFC8032_PRIVATE, size, ts, root)
