"""Bad input: every broken frame gets a BusinessReject with a reason; nothing crashes.

Invariant of the fuzz test (seeded): whatever arrives, the server answers or ignores it
without dying, and afterwards a normal order still executes correctly on both sides.
"""

from __future__ import annotations

import random

import msgspec
import pytest

from engine.codes import Reason
from engine.messages import MassCancel
from gateway import protocol as p
from gateway.codec import decode_response, encode
from gateway.protocol import ExecType
from tests.gateway.conftest import INSTRUMENT

_mp = msgspec.msgpack.encode


def _reject(client) -> p.BusinessReject:
    return client.wait_for(lambda m: type(m) is p.BusinessReject)


def _still_trades(harness, buyer="BOB", seller="CAROL") -> None:
    buy, sell = harness.client(buyer), harness.client(seller)
    sell_id = sell.sell(INSTRUMENT, 2, 4900)
    buy_id = buy.buy(INSTRUMENT, 2, 4900)

    def fill(client, cl_ord_id):
        return client.wait_for(
            lambda m: type(m) is p.ExecutionReport
            and m.exec_type == ExecType.FILL
            and m.cl_ord_id == cl_ord_id
        )

    assert (fill(buy, buy_id).cum_qty, fill(sell, sell_id).cum_notional) == (2, 2 * 4900)


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"\xc1\xff garbage", Reason.MALFORMED),
        (encode(p.NewOrder(1, INSTRUMENT, 1, 5, 4800))[:-3], Reason.MALFORMED),
        (_mp([3, 1, INSTRUMENT, "buy", 5]), Reason.MALFORMED),
        (_mp({"t": 3}), Reason.MALFORMED),
        (_mp([99, 1, 2]), Reason.UNKNOWN_MESSAGE),
        (_mp([3, 1, INSTRUMENT, 1, -5]), Reason.VALUE_OUT_OF_RANGE),
        (_mp([3, 2**63, INSTRUMENT, 1, 5]), Reason.VALUE_OUT_OF_RANGE),
        (_mp([3, 1, INSTRUMENT, 7, 5]), Reason.VALUE_OUT_OF_RANGE),
        (_mp([3, 1, "X" * 33, 1, 5]), Reason.VALUE_OUT_OF_RANGE),
        (_mp([3, 1, INSTRUMENT, 1, 5, 2**64 - 1]), Reason.VALUE_OUT_OF_RANGE),
        (_mp([3, 1, INSTRUMENT, 1, p.MAX_QTY + 1, 4800]), Reason.VALUE_OUT_OF_RANGE),
        (b"\x93" + b"\x00" * 20_000, Reason.OVERSIZED),
        (b"", Reason.MALFORMED),
        (_mp([10, 1, INSTRUMENT, 3]), Reason.VALUE_OUT_OF_RANGE),
        (_mp([10, 0]), Reason.VALUE_OUT_OF_RANGE),
        (_mp([11, "one"]), Reason.MALFORMED),
        (_mp([7, 1, [], "yes"]), Reason.MALFORMED),
    ],
    ids=[
        "garbage", "truncated", "wrong-type", "map-not-array", "unknown-tag", "negative-qty",
        "id-too-big", "bad-enum", "symbol-too-long", "u64-price", "qty-too-big", "oversized",
        "empty", "mass-status-bad-side", "mass-status-zero-id", "credit-status-str-id",
        "quote-mmp-reset-not-bool",
    ],
)
def test_bad_frame_when_logged_on_then_business_reject_and_session_survives(
    harness, frame, reason
):
    alice = harness.client("ALICE")
    alice.sock.send(frame)
    reject = _reject(alice)
    assert reject.reason == reason
    alice.buy(INSTRUMENT, 1, 4800)
    ack = alice.wait_for(lambda m: type(m) is p.ExecutionReport)
    assert ack.exec_type == ExecType.NEW


def test_reject_when_tag_and_id_readable_then_reject_names_them(harness):
    alice = harness.client("ALICE")
    alice.sock.send(_mp([3, 42, INSTRUMENT, 1, -5]))
    reject = _reject(alice)
    assert (reject.ref_tag, reject.ref_id) == (3, 42)
    assert "$[4]" in reject.text


def test_extra_frames_when_sent_then_bad_envelope(harness):
    alice = harness.client("ALICE")
    alice.sock.send_multipart([encode(p.Heartbeat()), b"extra"])
    assert _reject(alice).reason == Reason.BAD_ENVELOPE
    alice.sock.send_multipart([b"", encode(p.Heartbeat())])  # a REQ-style delimiter
    assert _reject(alice).reason == Reason.BAD_ENVELOPE


def test_bad_frame_when_not_logged_on_then_rejected_too(harness):
    alice = harness.client("ALICE", logon=False)
    alice.sock.send(b"\x00\x01\x02")
    assert _reject(alice).reason == Reason.MALFORMED


def _mutations(rng: random.Random) -> list[list[bytes]]:
    valid = [
        encode(p.NewOrder(rng.randrange(1, 10**6), INSTRUMENT, 1, 1, 4800)),
        encode(p.CancelOrder(5, 6)),
        encode(p.AmendOrder(7, 8, 3, 4800)),
        encode(p.MassQuote(9, [p.QuoteEntry(INSTRUMENT, 4700, 1, 4950, 1)])),
        encode(p.OrderStatus(3)),
        encode(p.MassCancel(11)),
        encode(p.Heartbeat(1)),
    ]
    wild = [0, -1, 2**63, 2**64 - 1, -(2**63), "", "x" * 40, None, 1.5, [], {}, True, b"\x00"]
    frames = []
    for _ in range(3000):
        roll = rng.random()
        if roll < 0.25:
            frame = [rng.randbytes(rng.randrange(0, 64))]
        elif roll < 0.5:
            base = bytearray(rng.choice(valid))
            for _ in range(rng.randrange(1, 4)):
                base[rng.randrange(len(base))] = rng.randrange(256)
            frame = [bytes(base)]
        elif roll < 0.65:
            base = rng.choice(valid)
            cut = rng.randrange(len(base))
            frame = [base[:cut] if rng.random() < 0.5 else base + rng.randbytes(cut % 9 + 1)]
        elif roll < 0.85:
            items = msgspec.msgpack.decode(rng.choice(valid))
            items[rng.randrange(len(items))] = rng.choice(wild)
            if rng.random() < 0.3:
                items[0] = rng.randrange(-5, 60)
            frame = [_mp(items)]
        else:
            frame = [rng.choice(valid)] * rng.randrange(2, 4)
        frames.append(frame)
    return frames


@pytest.mark.parametrize(
    "harness", [{"throttle_rate": 1_000_000, "throttle_burst": 1_000_000}], indirect=True
)
def test_fuzz_when_thousands_of_random_frames_then_server_survives_and_still_trades(harness):
    rng = random.Random(20260315)
    alice = harness.client("ALICE")
    for frames in _mutations(rng):
        alice.sock.send_multipart(frames)
    alice.sock.send(encode(p.Heartbeat(0)))  # nothing answers a heartbeat ...
    replies = 0
    while alice.sock.poll(1000):  # ... so drain until the server has gone quiet
        replies += len(decode_response(alice.sock.recv()))  # every reply decodes, too
    assert replies > 2000
    harness.admin().request(MassCancel("ALICE"))  # clear whatever valid orders got through
    _still_trades(harness)
    assert harness.server.ready.is_set()


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"\xc1 not msgpack", Reason.MALFORMED),
        (_mp([42, 5, 17]), Reason.MALFORMED),  # CreditQuery naming a participant by number
        (_mp([44, 5, "yes"]), Reason.MALFORMED),  # Watch with a string for on
        (_mp([49, 5, ""]), Reason.VALUE_OUT_OF_RANGE),  # EndSessions naming nobody
        (_mp([47, 5, "X" * 65]), Reason.VALUE_OUT_OF_RANGE),
        (_mp([43, 5, 0, [], []]), Reason.UNKNOWN_MESSAGE),  # a reply sent as a request
    ],
    ids=["garbage", "credit-int-name", "watch-str-flag", "end-sessions-empty",
         "sessions-name-too-long", "reply-as-request"],
)
def test_bad_admin_frame_then_ack_with_reason_and_port_keeps_answering(harness, frame, reason):
    from gateway.codec import decode_admin_reply

    admin = harness.admin()
    admin.sock.send(frame)
    assert admin.sock.poll(3000)
    refused = decode_admin_reply(admin.sock.recv())
    assert (type(refused), refused.reason) == (p.AdminAck, reason)
    assert admin.sessions().reason == Reason.NONE  # the port, and the server, carry on
