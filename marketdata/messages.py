"""The feed's wire types: what an analyst receives, one schema for publisher and client.

Live messages (PUB, one frame = topic + msgpack): :class:`Trades`, :class:`Quote`,
:class:`DepthUpdate`, :class:`OrderLevels`, :class:`AuctionIndicative`,
:class:`InstrumentStatus`, :class:`Bars` (of :class:`Bar`), :class:`DailyStats`,
:class:`Heartbeat`; their union :data:`AnyFeed`.
Snapshot port (DEALER -> ROUTER): :class:`SnapshotRequest` in; the channel's live types as
current state, then :class:`SnapshotEnd`, or :class:`SnapshotReject`, or :class:`Directory`
(of :class:`InstrumentInfo`) out; their union :data:`AnyReply`.
Helpers: :func:`topic`, :func:`split_frame`, :data:`CHANNELS`.

A topic is ``b"<channel letter>.<instrument id>\\x00"`` so a SUB can filter by exact topic or
by channel prefix (``b"T."``: every trade). Every live message carries ``seq``, the topic's own
sequence number, +1 per frame; a heartbeat repeats the last one. The snapshot port answers
with the same types the live channels use, so a client has one apply path: reset, apply the
snapshot's state, then apply live frames above the snapshot's ``seq``. Prices are integers in
minor units, quantities integer units, times ns; 0 stands for "no price". Structs are
``array_like`` with int tags (research/protocol.md §4): new fields go at the end, defaulted.
"""

from __future__ import annotations

import msgspec

from engine.instruments import Instrument

CHANNELS = "TQDOAHBS"
"""Trades, Quote (best bid and offer), Depth (top N levels), Orders (order by order),
Auction indications, Halt/phase status (phase, reference price, band), Bars, Statistics."""

TRADES, QUOTE, DEPTH, ORDERS, AUCTION, STATUS, BARS, STATS = CHANNELS
STATE_CHANNELS = frozenset(QUOTE + AUCTION + STATUS + STATS)
"""Channels whose every message is the whole state: a gap in them heals with the next one."""


def topic(channel: str, instrument: str) -> bytes:
    """The PUB topic prefix of one instrument channel.

    >>> topic("T", "ULR-5GSEP-26")
    b'T.ULR-5GSEP-26\\x00'
    """
    return f"{channel}.{instrument}\x00".encode()


def split_frame(frame: bytes) -> tuple[bytes, bytes]:
    """Split a PUB frame into its topic (with the NUL) and its msgpack payload.

    >>> split_frame(b"Q.X\\x00\\x93")
    (b'Q.X\\x00', b'\\x93')
    """
    end = frame.index(0) + 1
    return frame[:end], frame[end:]


class Msg(msgspec.Struct, tag_field="t", array_like=True, gc=False, frozen=True):
    """Base of every feed message: int-tagged arrays, the cheapest msgspec form."""


# -- live channels -------------------------------------------------------------------------

TradeTuple = tuple[int, int, int, int, int]
"""``(trade_id, price, qty, aggressor side, ts)``; aggressor 1 = buy, 2 = sell, 0 = none
(an auction's uncross)."""


class Trades(Msg, tag=20):
    """Trades of one batch, in execution order (T). As a snapshot: the most recent trades."""

    seq: int
    instrument: str
    trades: list[TradeTuple]


class Quote(Msg, tag=21):
    """Best bid and offer with their displayed quantities (Q); price 0 = that side is empty."""

    seq: int
    instrument: str
    bid_price: int
    bid_qty: int
    ask_price: int
    ask_qty: int
    ts: int


LevelTuple = tuple[int, int, int, int]
"""``(side, price, qty, orders)``: aggregated displayed quantity; qty 0 deletes the level."""


class DepthUpdate(Msg, tag=22):
    """Changed levels of the top-N window (D), absolute quantities, levels leaving the window
    deleted. As a snapshot: every level of the window."""

    seq: int
    instrument: str
    levels: list[LevelTuple]
    ts: int


QueueTuple = tuple[int, int, list[tuple[int, int]]]
"""``(side, price, [(order_id, displayed qty), ...])`` in time priority; empty = level gone."""


class OrderLevels(Msg, tag=23):
    """Order-by-order book (O): each listed level's whole queue replaces the old one; levels
    come in the order the batch first touched them (a snapshot: bids best first, then asks).

    Replacing a level's queue rather than sending add/modify/delete per order keeps the
    client exact through iceberg refills, which move an order to the back of its level
    without any other visible change. Orders are anonymous: ids, never participants.
    """

    seq: int
    instrument: str
    levels: list[QueueTuple]
    ts: int


class AuctionIndicative(Msg, tag=24):
    """Indicative uncross of an auction call (A): the price at which it would execute now.

    ``price`` is None when nothing would execute; ``surplus_side`` 0 when balanced, 1 when
    buyers are left over, 2 sellers; ``reference`` is the price the tie-break ladder used.
    """

    seq: int
    instrument: str
    price: int | None
    volume: int
    surplus_side: int
    surplus: int
    reference: int
    ts: int


class InstrumentStatus(Msg, tag=25):
    """Trading phase, reference price and static band (H): the instrument's rules right now.

    ``phase`` is ``engine.messages.Phase``; ``phase_end_ts`` is when a timed phase (a
    volatility interruption, an English auction) is due to end, 0 when a command ends it.
    """

    seq: int
    instrument: str
    phase: int
    reference_price: int
    band_low: int
    band_high: int
    phase_end_ts: int
    ts: int


class Bar(msgspec.Struct, array_like=True, gc=False, frozen=True):
    """OHLCV of one interval ``[start_ts, start_ts + interval_s)``; only intervals that traded.

    ``turnover`` is the sum of price x qty, so ``turnover / volume`` is the bar's VWAP.
    """

    interval_s: int
    start_ts: int
    open: int
    high: int
    low: int
    close: int
    volume: int
    turnover: int
    trades: int


class Bars(Msg, tag=26):
    """Bars that closed (B). As a snapshot: the session's recent bars of every interval."""

    seq: int
    instrument: str
    bars: list[Bar]


class DailyStats(Msg, tag=27):
    """The trading day so far (S); prices 0 before the day's first trade.

    ``day`` counts UTC days since 1970; ``vwap`` is ``turnover / volume`` rounded half up to
    the minor unit, and ``turnover`` is exact.
    """

    seq: int
    instrument: str
    day: int
    open: int
    high: int
    low: int
    last: int
    vwap: int
    volume: int
    turnover: int
    trades: int
    ts: int


class Heartbeat(Msg, tag=28):
    """Sent on an idle topic: ``seq`` is the topic's last, so a higher one reveals a lost tail.

    ``epoch`` names the numbering: it stays the same across a recovered restart (numbers
    continue) and changes only when a publisher cannot continue and every sequence starts
    again.
    """

    seq: int
    epoch: int
    ts: int


ChannelState = (
    Trades
    | Quote
    | DepthUpdate
    | OrderLevels
    | AuctionIndicative
    | InstrumentStatus
    | Bars
    | DailyStats
)
"""What a channel publishes: live on the PUB socket, and as state in a snapshot reply."""

AnyFeed = ChannelState | Heartbeat

CHANNEL_OF: dict[type, str] = {
    Trades: TRADES,
    Quote: QUOTE,
    DepthUpdate: DEPTH,
    OrderLevels: ORDERS,
    AuctionIndicative: AUCTION,
    InstrumentStatus: STATUS,
    Bars: BARS,
    DailyStats: STATS,
}
"""Which channel a data message type travels on (also how a snapshot's frames are routed)."""

# -- snapshot port ---------------------------------------------------------------------------


class SnapshotRequest(Msg, tag=30):
    """Ask for one instrument's state on ``channels``; instrument "" asks for the directory."""

    req_id: int
    instrument: str
    channels: str = CHANNELS


class SnapshotEnd(Msg, tag=31):
    """Last frame of a snapshot: the sequence number each channel's state reflects."""

    req_id: int
    epoch: int
    instrument: str
    seqs: dict[str, int]


class SnapshotReject(Msg, tag=32):
    """The request named an unknown instrument or channel; ``reason`` says which."""

    req_id: int
    reason: str


class InstrumentInfo(msgspec.Struct, array_like=True, gc=False, frozen=True):
    """What a terminal needs to show an instrument (its name and how to format its prices),
    and what an analyst needs to know of it: ``reference``, the whole reference data."""

    instrument: str
    name: str
    currency: str
    minor_units: int
    tick_size: int
    lot_size: int
    reference: Instrument | None = None
    """The IP right it conveys (IP type, assets, right, territory, field of use, term), its
    kind, band and regime, and a derivative's terms, as listed."""


class Directory(Msg, tag=33):
    """The listed instruments, answer to a request with an empty instrument."""

    req_id: int
    epoch: int
    instruments: list[InstrumentInfo]


AnyReply = ChannelState | SnapshotEnd | SnapshotReject | Directory

encode = msgspec.msgpack.Encoder().encode
decode_feed = msgspec.msgpack.Decoder(AnyFeed).decode
decode_reply = msgspec.msgpack.Decoder(AnyReply).decode
decode_request = msgspec.msgpack.Decoder(SnapshotRequest).decode
