"""Reason codes: the one numbered enum behind every reject and every order's end.

Groups by stage, so a number tells where it came from:

- ``0``     no reason (a fill, a plain accept)
- ``1xxx``  validation: the command is malformed or not allowed as sent
- ``3xxx``  matching: why an accepted order (or its remainder) did not rest
- ``5xxx``  lifecycle: cancels and expiries asked for by a participant or the calendar

Later stages add their own thousands (risk 2xxx, session 4xxx, auction 6xxx, gateway 9xxx).
Numbers are never reused: a retired code stays reserved. ``reason_table()`` lists them all.
"""

from __future__ import annotations

from enum import IntEnum


class Reason(IntEnum):
    """Why a command was rejected or an order ended; carried by reject and done events.

    Each member is ``NAME = number, "description"``: the description travels with the code so
    documentation, ``ipx codes`` and client tools print the same words.
    """

    description: str

    def __new__(cls, value: int, description: str = "") -> Reason:
        member = int.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member

    NONE = 0, "No reason: the order filled, or the event is not a reject."

    # 1xxx validation
    UNKNOWN_INSTRUMENT = 1001, "The instrument id is not listed."
    PRICE_OFF_TICK = (
        1002,
        "The price (or stop price) is not a multiple of the instrument's tick size.",
    )
    QTY_NOT_LOT_MULTIPLE = 1003, "The quantity is zero, negative or not a multiple of the lot size."
    PRICE_OUTSIDE_BAND = 1004, "The limit or stop price lies outside the instrument's price band."
    DUPLICATE_ORDER_ID = (
        1005,
        "Order ids must be new: strictly greater than every id accepted before.",
    )
    UNKNOWN_ORDER = 1006, "No order with this id was ever accepted."
    ORDER_NOT_LIVE = (
        1007,
        "The order was accepted once but is filled, cancelled or expired: too late.",
    )
    INSTRUMENT_HALTED = (
        1008,
        "The instrument is halted: no new orders or amends; cancels still work.",
    )
    NOT_ORDER_OWNER = 1009, "The order belongs to another participant."
    INVALID_PRICE = 1010, "A limit price that is not positive, or a price on a market order."
    INVALID_ORDER_COMBINATION = (
        1011,
        "Order type, time in force and flags that cannot go together (e.g. post-only IOC).",
    )
    INVALID_DISPLAY_QTY = (
        1012,
        "An iceberg peak that is not a positive lot multiple below the order quantity.",
    )
    INVALID_MIN_QTY = (
        1013,
        "A minimum quantity that is negative, off-lot or above the order quantity.",
    )
    INVALID_STOP_PRICE = 1014, "A stop price that is missing, or already reached by the last trade."
    INVALID_EXPIRY = (
        1015,
        "A GTD order without an expiry time after the command's time, or one on a non-GTD order.",
    )
    AMEND_NO_CHANGE = 1016, "An amend that changes neither price nor quantity."
    AMEND_BELOW_FILLED = (
        1017,
        "An amend to a total quantity at or below what has already been filled.",
    )
    MARKET_CLOSED = 1018, "The instrument's trading phase accepts no orders (closed)."
    INSTRUMENT_EXISTS = 1019, "An instrument with this id is already listed."
    INVALID_INSTRUMENT = (
        1020,
        "Instrument reference data that breaks its own rules (tick, lot, band, terms).",
    )

    # 3xxx matching outcomes
    POST_ONLY_WOULD_TAKE = (
        3001,
        "A post-only order that would have taken liquidity is rejected instead.",
    )
    FOK_NOT_FILLED = (
        3002,
        "A fill-or-kill order could not fill completely at once, so nothing executed.",
    )
    MIN_QTY_NOT_MET = (
        3003,
        "Less than the order's minimum quantity was available at once, so nothing executed.",
    )
    IOC_REMAINDER = 3004, "The unfilled rest of an immediate-or-cancel order."
    MARKET_NO_LIQUIDITY = 3005, "The rest of a market order when the opposite side ran out."
    MARKET_PROTECTION = 3006, "The rest of a market order stopped at the edge of the price band."
    SELF_TRADE_PREVENTED = 3007, "Cancelled or reduced by self-trade prevention."

    # 5xxx lifecycle
    CANCELLED_BY_PARTICIPANT = 5001, "The owner cancelled the order."
    MASS_CANCELLED = 5002, "A mass cancel by the owner (or cancel-on-disconnect) removed the order."
    EXPIRED_GTD = 5003, "A good-till-date order reached its expiry time."
    EXPIRED_END_OF_DAY = 5004, "A day order at the end of the trading day."

    # 4xxx session and authorisation (the gateway, before a command reaches the core)
    NOT_LOGGED_ON = 4001, "A request other than Logon on a session that has not logged on."
    ALREADY_LOGGED_ON = 4002, "A second Logon on a session that is already logged on."
    UNSUPPORTED_VERSION = 4003, "The Logon names a protocol version this server does not speak."
    NOT_AUTHORISED = (
        4004,
        "The authenticated key may not do this (e.g. an order key on the admin port).",
    )
    THROTTLED = 4005, "The session exceeded its message rate; the request was dropped, not queued."
    DUPLICATE_CL_ORD_ID = (
        4006,
        "The participant already used this client order id; nothing was executed.",
    )
    SESSION_TIMEOUT = (
        4007,
        "Nothing arrived from the peer for three heartbeat intervals; the session ended.",
    )
    INVALID_HEARTBEAT = (
        4008,
        "The Logon asks for a heartbeat interval outside the server's allowed range.",
    )
    MMP_TRIGGERED = (
        4009,
        "Market maker protection: the quotes filled past the limit in the window; pulled.",
    )
    MMP_FROZEN = (
        4010,
        "Market maker protection froze the quotes: resend with mmp_reset, or wait it out.",
    )
    LOGGED_OUT_BY_OPERATOR = (
        4011,
        "An operator ended the session (its cancel-on-disconnect choice applies).",
    )

    # 9xxx gateway: the bytes on the wire
    MALFORMED = (
        9001,
        "The frame is not a well-formed message (bad msgpack, wrong field types or count).",
    )
    UNKNOWN_MESSAGE = 9002, "The message type tag names no request this port accepts."
    OVERSIZED = 9003, "The frame is longer than the server's maximum message size."
    BAD_ENVELOPE = (
        9004,
        "The ZeroMQ message has the wrong number of frames (one payload frame expected).",
    )
    VALUE_OUT_OF_RANGE = (
        9005,
        "A field's value lies outside its allowed range (an enum, a bound, a length).",
    )
    TOO_MANY_QUOTES = 9006, "A mass quote with more entries than the server allows in one message."
    DUPLICATE_QUOTE_ENTRY = 9007, "A mass quote names the same instrument twice."

    # 2xxx risk: pre-trade controls and risk administration (risk/)
    NOT_PERMITTED = (
        2001,
        "The participant has no risk account or no permission for this kind of instrument.",
    )
    MAX_QTY = 2002, "The order quantity exceeds the participant's maximum order size."
    MAX_NOTIONAL = (
        2003,
        "The order's notional, in the credit line's currency, exceeds the maximum per order.",
    )
    PRICE_COLLAR = (
        2004,
        "The limit or stop price lies outside the participant's collar around the reference.",
    )
    NO_HOLDING = (
        2005,
        "A sell of more than the seller holds unencumbered (only an issuer sells without).",
    )
    EXCLUSIVITY_CONFLICT = (
        2006,
        "A grant that overlaps an exclusive grant in territory, field of use and term.",
    )
    POSITION_LIMIT = (
        2007,
        "The derivative position plus working orders would exceed the position limit.",
    )
    CREDIT_LIMIT = 2008, "The order's reservation would take usage above the credit line."
    GUARANTOR_LIMIT = (
        2009,
        "The order would take a guarantor's usage above its total guarantee.",
    )
    ASSET_CONCENTRATION = (
        2010,
        "The order would take exposure to one IP asset above its concentration limit.",
    )
    KILLED = (
        2011,
        "A kill switch on the participant or its guarantor: orders rejected or cancelled.",
    )
    FX_RATE_STALE = (
        2012,
        "A cross-currency order while the FX table is older than the allowed age.",
    )
    FX_RATE_MISSING = 2013, "A cross-currency order in a currency the FX table has no rate for."
    MARGIN_NOT_SET = 2014, "A derivative order before the instrument's initial margin is set."
    UNKNOWN_GUARANTOR = 2015, "A credit line or kill switch names a guarantor never set."
    INVALID_RISK_SETTING = (
        2016,
        "A risk command with a negative amount, bad shares or mismatched currencies.",
    )
    HOLDING_ENCUMBERED = (
        2017,
        "A holding set below what the participant's working sell orders already encumber.",
    )
    SETTLEMENT_EXCEEDS_OBLIGATION = (
        2018,
        "A settlement larger than the open obligation, or in the wrong direction.",
    )

    # 6xxx auctions and trading regimes
    REGIME_VIOLATION = 6001, "The instrument's trading regime does not allow this order or phase."
    NOT_ALLOWED_IN_PHASE = (
        6002,
        "The order type or time in force is not allowed in the current trading phase.",
    )
    AUCTION_REMAINDER = (
        6003,
        "The unfilled rest of an auction-only or market order, cancelled after its auction.",
    )
    BID_TOO_LOW = 6004, "An English-auction bid below the start price or the minimum increment."
    AUCTION_BINDING = 6005, "Bids and offers in a running English auction cannot be withdrawn."
    AUCTION_LOST = 6006, "An English-auction bid that did not win, cancelled at the close."
    RESERVE_NOT_MET = 6007, "The English auction closed without a bid at the reserve price."
    NOT_IN_CALL = 6008, "An uncross or auction command for a book that is not in that phase."
    UNCROSS_REQUIRED = (
        6009,
        "The book is crossed or holds market orders: leave the call by an uncross.",
    )


def reason_table() -> list[tuple[int, str, str]]:
    """Every code as ``(number, name, description)``, in numeric order, for docs and tools."""
    return [(int(r), r.name, r.description) for r in sorted(Reason)]
