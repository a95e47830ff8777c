"""Trade evidence: the Merkle tree of trades, signed heads, and receipts anyone can check.

Public names: :class:`TradeLog`, :class:`Receipt`, :func:`make_receipt`,
:func:`check_receipt`, :func:`chain_head_bytes`, :func:`verify_chain_head`,
:func:`load_signing_key`.

Every trade the core prints becomes a leaf (its event's canonical encoding) of an RFC 6962
tree (:mod:`gateway.merkle`), in trade order, so leaf ``i`` is the same in the server, in a
replay and in an auditor's rebuild. At intervals the server signs the tree's head (an STH,
:mod:`gateway.signing`) and, with a second signature, the journal's hash-chain head; both go
into the journal as a :class:`~gateway.records.TreeHead`. A trade's execution reports carry
its leaf index and leaf hash; a :class:`Receipt` adds the leaf data, a signed head and the
audit path, which is all its owner needs to check inclusion without trusting the operator.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from engine.messages import Trade
from gateway.merkle import MerkleLog, leaf_hash, verify_consistency, verify_inclusion
from gateway.records import TreeHead, trade_leaf
from gateway.signing import SignedTreeHead, generate_keypair, sign_tree_head, verify_tree_head

CHAIN_HEAD_LABEL = b"IPX-JOURNAL-HEAD-v1"
"""Domain separation: a chain-head signature can never pass as a tree-head one."""
_COUNT = struct.Struct(">Q")


def chain_head_bytes(records: int, chain_head: bytes) -> bytes:
    """The bytes a chain-head signature covers: label, record count (uint64 BE), head."""
    return CHAIN_HEAD_LABEL + _COUNT.pack(records) + chain_head


def verify_chain_head(public_key: bytes, head: TreeHead) -> bool:
    try:
        message = chain_head_bytes(head.records, head.chain_head)
        Ed25519PublicKey.from_public_bytes(public_key).verify(head.chain_signature, message)
    except (ValueError, InvalidSignature):
        return False
    return True


def load_signing_key(path: Path) -> tuple[bytes, bytes]:
    """The tree-head key pair at ``path`` (hex, private then public), created if missing."""
    if not path.exists():
        private, public = generate_keypair()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"{private.hex()}\n{public.hex()}\n")
        path.with_suffix(".pub").write_text(public.hex() + "\n")
    private_hex, public_hex = path.read_text().split()[:2]
    return bytes.fromhex(private_hex), bytes.fromhex(public_hex)


class TradeLog:
    """The tree of all trades so far and the key that signs its heads."""

    def __init__(self, private_key: bytes = b"") -> None:
        self.tree = MerkleLog()
        self.private_key = private_key
        self.signed_size = -1
        """Tree size of the last signed head (-1: none yet)."""

    def add(self, trade: Trade) -> tuple[int, bytes]:
        """Append a trade; return its leaf index and leaf hash (for its reports)."""
        data = trade_leaf(trade)
        return self.tree.append(data), leaf_hash(data)

    def head(self, timestamp_ns: int, records: int, chain_head: bytes) -> TreeHead:
        """Sign the current tree and the journal's chain head (after ``records`` records)."""
        size = len(self.tree)
        sth = sign_tree_head(self.private_key, size, timestamp_ns, self.tree.root(size))
        key = Ed25519PrivateKey.from_private_bytes(self.private_key)
        chain_signature = key.sign(chain_head_bytes(records, chain_head))
        self.signed_size = size
        return TreeHead(
            size, timestamp_ns, sth.root, sth.signature, records, chain_head, chain_signature
        )


class Receipt(msgspec.Struct, kw_only=True):
    """Everything a trade's owner needs to check it is in the exchange's signed record.

    ``trade`` is the leaf data (the Trade event's msgpack); ``head`` the signed tree head
    that covers it; ``proof`` the audit path. ``old_head`` and ``consistency``, when given,
    show that ``head`` extends an earlier head the owner kept: the log was only appended to.
    """

    trade: bytes
    leaf_index: int
    head: SignedTreeHead
    proof: list[bytes]
    public_key: bytes
    old_head: SignedTreeHead | None = None
    consistency: list[bytes] = []


def make_receipt(
    tree: MerkleLog,
    trade: Trade,
    leaf_index: int,
    head: TreeHead,
    public_key: bytes,
    old_head: TreeHead | None = None,
) -> Receipt:
    """A receipt for the trade at ``leaf_index`` against ``head`` (and from ``old_head``)."""
    sth = SignedTreeHead(head.tree_size, head.timestamp_ns, head.root, head.signature)
    receipt = Receipt(
        trade=trade_leaf(trade),
        leaf_index=leaf_index,
        head=sth,
        proof=tree.inclusion_proof(leaf_index, head.tree_size),
        public_key=public_key,
    )
    if old_head is not None:
        receipt.old_head = SignedTreeHead(
            old_head.tree_size, old_head.timestamp_ns, old_head.root, old_head.signature
        )
        receipt.consistency = tree.consistency_proof(old_head.tree_size, head.tree_size)
    return receipt


def check_receipt(receipt: Receipt, public_key: bytes | None = None) -> list[str]:
    """What is wrong with a receipt (empty: it proves inclusion, and consistency if asked).

    ``public_key`` pins the exchange's key; without it the receipt's own key is used, which
    proves only that whoever holds that key signed this tree.
    """
    key = receipt.public_key if public_key is None else public_key
    problems = []
    head = receipt.head
    if not verify_tree_head(key, head):
        problems.append("tree head signature does not verify")
    leaf = leaf_hash(receipt.trade)
    if not verify_inclusion(leaf, receipt.leaf_index, head.tree_size, receipt.proof, head.root):
        problems.append(f"trade is not leaf {receipt.leaf_index} of the tree of size "
                        f"{head.tree_size}")
    old = receipt.old_head
    if old is not None:
        if not verify_tree_head(key, old):
            problems.append("old tree head signature does not verify")
        if not verify_consistency(
            old.tree_size, head.tree_size, old.root, head.root, receipt.consistency
        ):
            problems.append(f"tree {head.tree_size} does not extend tree {old.tree_size}")
    return problems
