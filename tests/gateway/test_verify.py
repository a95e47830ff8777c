"""Evidence: ``ipx verify`` names the first altered record; receipts prove inclusion."""

from __future__ import annotations

import json
import struct
import zlib

import msgspec
import pytest

from engine.messages import NewOrder
from gateway import protocol as p
from gateway.audit import build_receipt, verify
from gateway.cli import main
from gateway.evidence import chain_hash
from gateway.receipts import Receipt, check_receipt
from gateway.records import Sequenced, TreeHead, decode_record
from gateway.recovery import replay_journal
from gateway.wal import HEADER, MAGIC, read_frames, segments
from tests.gateway.conftest import INSTRUMENT
from tests.gateway.test_recovery import Driver, config, trade_a_little  # noqa: F401


@pytest.fixture
def data_dir(config):  # noqa: F811
    d = Driver(config)
    trade_a_little(d)
    d.send("BOB", p.NewOrder(104, INSTRUMENT, p.Side.SELL, 2, 4790))  # a later tree head
    d.stop()
    return d.store.wal.directory.parent


def _order_record(data_dir) -> int:
    """Index of a journaled new order in the middle of the journal."""
    frames = list(read_frames(data_dir / "journal"))
    orders = [
        f.index for f in frames
        if type(r := decode_record(f.body)) is Sequenced and type(r.cmd) is NewOrder
    ]
    return orders[len(orders) // 2]


def _rewrite(data_dir, index: int, edit, rechain: bool) -> None:
    """Re-frame the journal with record ``index`` edited; fix its CRC, and with ``rechain``
    every later link too (a forger's best effort)."""
    (segment,) = segments(data_dir / "journal")
    frames = list(read_frames(data_dir / "journal"))
    out = [MAGIC]
    link = frames[0].prev
    for frame in frames:
        body = bytes(frame.body)
        if frame.index == index:
            body = edit(body)
        prev = link if rechain or frame.index <= index else frame.prev
        out.append(struct.pack(">II32s", len(body), zlib.crc32(body, zlib.crc32(prev)), prev))
        out.append(body)
        link = chain_hash(prev, body)
    segment.write_bytes(b"".join(out))


def _flip(body: bytes) -> bytes:
    return body[:-2] + bytes([body[-2] ^ 0x01]) + body[-1:]


def test_verify_when_untouched_then_ok_and_equal_to_replay(data_dir):
    report = verify(data_dir)

    core, tree, commands = replay_journal(data_dir / "journal")
    assert report.ok, report.problem
    assert report.fingerprint == core.fingerprint()
    assert report.commands == commands and report.trades == len(tree) > 0
    assert report.tree_heads > 0 and report.snapshots > 0


def test_verify_when_a_byte_flips_then_crc_names_the_record(data_dir):
    k = _order_record(data_dir)
    (segment,) = segments(data_dir / "journal")
    frame = next(f for f in read_frames(data_dir / "journal") if f.index == k)
    data = bytearray(segment.read_bytes())
    data[frame.offset + HEADER.size + 3] ^= 0x40
    segment.write_bytes(bytes(data))

    report = verify(data_dir)

    assert report.first_bad == k
    assert "CRC" in report.problem


def test_verify_when_crc_recomputed_then_chain_names_the_record(data_dir):
    k = _order_record(data_dir)
    _rewrite(data_dir, k, _flip, rechain=False)

    report = verify(data_dir)

    assert report.first_bad == k
    assert "hash chain" in report.problem


def test_verify_when_whole_chain_forged_then_next_signed_head_catches_it(data_dir):
    k = _order_record(data_dir)
    _rewrite(data_dir, k, _flip, rechain=True)
    heads = [
        f.index for f in read_frames(data_dir / "journal")
        if type(decode_record(f.body)) is TreeHead and f.index > k
    ]

    report = verify(data_dir)

    assert report.first_bad is not None and k <= report.first_bad <= heads[0]


def test_verify_cli_when_altered_then_exit_status_1(data_dir, capsys):
    assert main(["verify", str(data_dir)]) == 0
    _rewrite(data_dir, _order_record(data_dir), _flip, rechain=False)

    assert main(["verify", str(data_dir)]) == 1
    assert "ALTERED: record" in capsys.readouterr().err


def test_replay_cli_when_run_then_prints_the_verified_state_and_trades_only_if_rebuilt(
    data_dir, capsys
):
    report = verify(data_dir)

    assert main(["replay", str(data_dir)]) == 0
    assert main(["replay", str(data_dir), "--trades"]) == 0
    plain, rebuilt = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert plain["fingerprint"] == rebuilt["fingerprint"] == report.fingerprint
    assert plain["commands"] == report.commands and "trades" not in plain
    assert rebuilt["trades"] == report.trades > 0


def test_receipt_when_checked_then_proves_inclusion_and_consistency(data_dir, tmp_path):
    heads = sorted(
        r.tree_size for f in read_frames(data_dir / "journal")
        if type(r := decode_record(f.body)) is TreeHead
    )
    out = tmp_path / "receipt.json"

    assert main(["receipt", str(data_dir), "1", "--old-size", str(heads[0]),
                 "--out", str(out)]) == 0
    receipt = msgspec.json.decode(out.read_bytes(), type=Receipt)
    assert receipt.old_head is not None and receipt.head.tree_size == heads[-1]
    assert main(["receipt", "--check", str(out), "--key", receipt.public_key.hex()]) == 0


def test_receipt_when_trade_or_key_differs_then_fails(data_dir):
    receipt = build_receipt(data_dir, 1)
    forged = msgspec.structs.replace(receipt, trade=_flip(receipt.trade))
    other_key = bytes(32)

    assert check_receipt(receipt) == []
    assert check_receipt(forged)
    assert check_receipt(receipt, other_key)


@pytest.mark.parametrize("command", [["verify"], ["replay"], ["receipt"]])
def test_evidence_cli_when_no_journal_there_then_exits_saying_so(tmp_path, command):
    argv = [*command, str(tmp_path)] + (["1"] if command == ["receipt"] else [])

    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert str(exited.value) == (
        f"ipx {command[0]}: {tmp_path}: no journal here (no {tmp_path / 'journal'})"
    )


def test_receipt_cli_when_no_such_trade_then_exits_saying_so(data_dir):
    with pytest.raises(SystemExit) as exited:
        main(["receipt", str(data_dir), "999"])

    assert str(exited.value) == "ipx receipt: no trade 999 in the journal"


@pytest.mark.parametrize("command", [["replay"], ["receipt", "1"]])
def test_journal_cli_when_a_record_altered_then_exits_naming_it(data_dir, command):
    k = _order_record(data_dir)
    frame = next(f for f in read_frames(data_dir / "journal") if f.index == k)
    data = bytearray(frame.segment.read_bytes())
    data[frame.offset + HEADER.size] ^= 0x01  # its CRC no longer matches
    frame.segment.write_bytes(bytes(data))

    with pytest.raises(SystemExit) as exited:
        main([command[0], str(data_dir), *command[1:]])

    assert str(exited.value).startswith(f"ipx {command[0]}: record {k} ")
    assert str(exited.value).endswith("; ipx verify says what changed")
