"""Encoding and decoding of wire messages, built once per direction.

Public names: :func:`encode`, :func:`decode_request`, :func:`decode_response`,
:func:`decode_admin_request`, :func:`decode_admin_reply`, :class:`WireError`, :func:`peek`.

A decoder built per call is about 12 times slower than a reused one, so every decoder here
is module-level. Decoding failures become a :class:`WireError` carrying the reason code a
:class:`~gateway.protocol.BusinessReject` reports, so the server never has to interpret
msgspec's messages itself.
"""

from __future__ import annotations

import msgspec

from engine.codes import Reason
from gateway.protocol import (
    PROTOCOL_VERSION,
    AnyAdminReply,
    AnyAdminRequest,
    AnyRequest,
    AnyResponse,
)

encode = msgspec.msgpack.Encoder().encode
_requests = msgspec.msgpack.Decoder(AnyRequest)
_responses = msgspec.msgpack.Decoder(list[AnyResponse])
_admin_requests = msgspec.msgpack.Decoder(AnyAdminRequest)
_admin_replies = msgspec.msgpack.Decoder(AnyAdminReply)
_raw = msgspec.msgpack.Decoder()

_DECODE_ERRORS = (msgspec.MsgspecError, ValueError, RecursionError)
"""msgspec raises these three: its own, UnicodeDecodeError on bad UTF-8, and deep nesting."""
_RANGE_HINTS = ("` >", "` <", "Invalid enum value", "of length", "at least", "at most")


class WireError(ValueError):
    """A frame that is not a valid message; ``reason`` says why, ``text`` where."""

    def __init__(self, reason: Reason, text: str) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text


def _classify(error: Exception) -> WireError:
    text = str(error)
    if isinstance(error, msgspec.ValidationError):
        if text.startswith("Invalid value") and text.endswith("`$[0]`"):
            return WireError(Reason.UNKNOWN_MESSAGE, text)
        if any(hint in text for hint in _RANGE_HINTS) and "array" not in text:
            return WireError(Reason.VALUE_OUT_OF_RANGE, text)
    return WireError(Reason.MALFORMED, text)


def decode_request(data: bytes) -> AnyRequest:
    """Decode a client's request or raise :class:`WireError`."""
    try:
        return _requests.decode(data)
    except _DECODE_ERRORS as error:
        raise _classify(error) from None


def decode_response(data: bytes) -> list[AnyResponse]:
    """Decode a server frame: one or more responses, in order. Raise :class:`WireError`.

    The server sends everything one turn of its loop produced for a connection in one
    frame, which saves a send, a CURVE box and a receive per message.
    """
    try:
        return _responses.decode(data)
    except _DECODE_ERRORS as error:
        raise _classify(error) from None


def decode_admin_request(data: bytes) -> AnyAdminRequest:
    try:
        return _admin_requests.decode(data)
    except _DECODE_ERRORS as error:
        raise _classify(error) from None


def decode_admin_reply(data: bytes) -> AnyAdminReply:
    try:
        return _admin_replies.decode(data)
    except _DECODE_ERRORS as error:
        raise _classify(error) from None


def peek(data: bytes) -> tuple[int, int]:
    """Best-effort ``(tag, id)`` of a frame that failed to decode, for the reject; 0 if unknown.

    >>> peek(encode([3, 42, "X"]))
    (3, 42)
    >>> peek(b"\\xc1")
    (0, 0)
    """
    try:
        items = _raw.decode(data)
    except _DECODE_ERRORS:
        return 0, 0
    if not isinstance(items, list) or not items:
        return 0, 0
    tag = items[0] if type(items[0]) is int and 0 <= items[0] < 2**31 else 0
    ref = items[1] if len(items) > 1 and type(items[1]) is int and 0 <= items[1] < 2**63 else 0
    return tag, ref


def json_schema() -> dict:
    """The JSON schema of every wire message, generated from the protocol's types.

    The schema describes the msgpack arrays as JSON arrays (``prefixItems``); each of the
    four top-level alternatives is one direction of one port.
    """
    roots = {
        "request": AnyRequest,
        "response": AnyResponse,
        "admin_request": AnyAdminRequest,
        "admin_reply": AnyAdminReply,
    }
    schemas, defs = msgspec.json.schema_components(
        roots.values(), ref_template="#/$defs/{name}"
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"IPX order-entry protocol, version {PROTOCOL_VERSION}",
        "anyOf": [{"title": name, **schema} for name, schema in zip(roots, schemas, strict=True)],
        "$defs": defs,
    }
