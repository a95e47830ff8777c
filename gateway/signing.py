"""Signed tree heads (RFC 6962 §3.5 / RFC 9162 §4.10) with Ed25519.

An STH commits the exchange to one root per tree size; participants compare STHs with
each other to catch split views. Timestamps are supplied by the caller (the command that
closed the epoch), never read from the clock, so replays sign the same bytes.

Signed bytes (50 bytes, all integers big-endian, unsigned):

    offset  size  field
    0       1     version         = 0x01 (STH_VERSION)
    1       1     signature type  = 0x01 (STH_SIGNATURE_TYPE, "tree head"; keeps a
                                    signature over a tree head from being valid for any
                                    other message type signed with the same key)
    2       8     tree_size       uint64
    10      8     timestamp_ns    uint64, nanoseconds since the Unix epoch
    18      32    root            SHA-256 Merkle tree hash (gateway.merkle)

This mirrors RFC 6962's TreeHeadSignature but is not wire-compatible with it: the RFC
puts the timestamp (in milliseconds) before tree_size.
"""

import struct

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

STH_VERSION = 0x01
STH_SIGNATURE_TYPE = 0x01
ROOT_SIZE = 32
_HEADER = struct.Struct(">BBQQ")
_UINT64_LIMIT = 1 << 64


class SignedTreeHead(msgspec.Struct, frozen=True):
    """What the exchange publishes each epoch; `signature` covers `tree_head_bytes`."""

    tree_size: int
    timestamp_ns: int
    root: bytes
    signature: bytes


def tree_head_bytes(tree_size: int, timestamp_ns: int, root: bytes) -> bytes:
    """The exact bytes an STH signature covers (layout in the module docstring)."""
    if not 0 <= tree_size < _UINT64_LIMIT or not 0 <= timestamp_ns < _UINT64_LIMIT:
        raise ValueError("tree_size and timestamp_ns must fit in uint64")
    if len(root) != ROOT_SIZE:
        raise ValueError(f"root must be {ROOT_SIZE} bytes, got {len(root)}")
    return _HEADER.pack(STH_VERSION, STH_SIGNATURE_TYPE, tree_size, timestamp_ns) + root


def generate_keypair() -> tuple[bytes, bytes]:
    """New Ed25519 key pair as raw 32-byte (private, public), for storage outside the core."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes_raw(), key.public_key().public_bytes_raw()


def sign_tree_head(
    private_key: bytes, tree_size: int, timestamp_ns: int, root: bytes
) -> SignedTreeHead:
    """Sign (tree_size, timestamp_ns, root); Ed25519 is deterministic, so replays match."""
    message = tree_head_bytes(tree_size, timestamp_ns, root)
    signature = Ed25519PrivateKey.from_private_bytes(private_key).sign(message)
    return SignedTreeHead(tree_size, timestamp_ns, root, signature)


def verify_tree_head(public_key: bytes, sth: SignedTreeHead) -> bool:
    """True iff `sth.signature` is the holder of `public_key` signing exactly these fields.

    Malformed input (bad key, out-of-range field, wrong root length) is a failed
    verification, not an exception: the STH comes from the wire.
    """
    try:
        message = tree_head_bytes(sth.tree_size, sth.timestamp_ns, sth.root)
        Ed25519PublicKey.from_public_bytes(public_key).verify(sth.signature, message)
    except (ValueError, InvalidSignature):
        return False
    return True
