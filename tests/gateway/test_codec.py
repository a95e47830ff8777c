"""The wire codec without sockets: round trips, schema, and every message documented."""

from pathlib import Path

import msgspec
import pytest

from gateway import protocol as p
from gateway.codec import decode_request, decode_response, encode, json_schema

REQUESTS = [
    p.Logon(p.PROTOCOL_VERSION, 500, False),
    p.Heartbeat(5),
    p.NewOrder(1, "X", p.Side.SELL, 10, 100, p.OrderType.LIMIT, p.TimeInForce.GTD, expire_ts=9),
    p.CancelOrder(2, 1),
    p.AmendOrder(3, 1, 20, 110),
    p.MassCancel(4, "X", 1),
    p.MassQuote(5, [p.QuoteEntry("X", 99, 1, 101, 1)]),
    p.OrderStatus(1),
    p.Logout(),
]


@pytest.mark.parametrize("msg", REQUESTS, ids=lambda m: type(m).__name__)
def test_request_when_encoded_then_decodes_to_itself(msg):
    assert decode_request(encode(msg)) == msg


def test_responses_when_batched_then_decode_in_order():
    batch = [p.Heartbeat(1), p.BusinessReject(3, 7, p.Reason.MALFORMED, "bad"), p.Logout(4007)]
    assert decode_response(encode(batch)) == batch


def test_new_order_when_trailing_defaults_left_off_then_decodes_with_defaults():
    short = msgspec.msgpack.encode([3, 1, "X", 1, 5, 100])
    assert decode_request(short) == p.NewOrder(1, "X", p.Side.BUY, 5, 100)


def test_request_when_newer_peer_appends_fields_then_they_are_ignored():
    longer = msgspec.msgpack.encode([8, 42, "a field from version 2"])
    assert decode_request(longer) == p.OrderStatus(42)


def test_every_wire_message_is_in_the_schema_and_the_protocol_doc():
    names = set(json_schema()["$defs"])
    doc = (Path(__file__).parents[2] / "docs" / "PROTOCOL.md").read_text()
    for cls in p.Msg.__subclasses__():
        assert cls.__name__ in names or f"gateway.protocol.{cls.__name__}" in names
        assert f"### {cls.__name__}" in doc, cls.__name__
        for field in cls.__struct_fields__:
            assert f"`{field}`" in doc, f"{cls.__name__}.{field}"
