"""What the publisher remembers about one instrument between batches.

Public type: :class:`InstrumentFeed`.

Sequence numbers and idle times per channel, the published top-N depth window (to send
only its changes), the last state messages (quote, status, auction) for snapshots, the bar
builders, the day's statistics and a ring of recent trades and bars that a snapshot replays.
"""

from __future__ import annotations

from collections import deque
from itertools import islice

from engine.book import Book
from engine.messages import Side
from marketdata.bars import BarBuilder, DayStats
from marketdata.messages import (
    CHANNELS,
    AuctionIndicative,
    Bar,
    InstrumentStatus,
    Quote,
    TradeTuple,
    topic,
)

BUY = int(Side.BUY)
SELL = int(Side.SELL)
BAR_INTERVALS_S = (1, 60)
RECENT_TRADES = 200
"""Trades a snapshot replays, so a client that lost a few fills them in by trade id."""
RECENT_BARS = {1: 600, 60: 1_440}
"""Bars a snapshot replays per interval: ten minutes of seconds, a day of minutes."""


class InstrumentFeed:
    """Per-instrument publisher state; the publisher mutates it, snapshots read it."""

    def __init__(self, book: Book, depth_levels: int, ts: int) -> None:
        """Start from the book as it is (a server may recover it before publishing)."""
        iid = book.instrument_id
        self.instrument = iid
        self.book = book
        self.topics = [topic(c, iid) for c in CHANNELS]
        self.topic_len = len(self.topics[0])  # one letter per channel: the same for all
        self.frames = [bytearray(t) for t in self.topics]
        """Per channel: the topic, then the last message the publisher encoded after it."""
        self.seqs = [0] * len(CHANNELS)
        self.sent_ns = [ts] * len(CHANNELS)
        self.window: dict[int, dict[int, tuple[int, int]]] = {
            side: {
                key: (level.qty, len(level.orders))
                for key, level in islice(book.side_levels(side).items(), depth_levels or None)
            }
            for side in (BUY, SELL)
        }
        """Published depth per side by the book's level key (-price for bids, price for asks:
        one int names a side and a price, no tuple to build and hash per event) -> (qty,
        orders), at most N levels, best first."""
        bid, ask = book.depth(BUY, 1), book.depth(SELL, 1)
        self.quote = Quote(
            0, iid, *(bid[0][:2] if bid else (0, 0)), *(ask[0][:2] if ask else (0, 0)), ts
        )
        self.phase_end_ts = 0
        self.status = InstrumentStatus(
            0, iid, int(book.phase), book.reference_price, book.band_low, book.band_high, 0, ts
        )
        self.auction: AuctionIndicative | None = None
        self.bar_builders = [BarBuilder(s) for s in BAR_INTERVALS_S]
        self.stats = DayStats()
        self.recent_trades: deque[TradeTuple] = deque(maxlen=RECENT_TRADES)
        self.recent_bars: dict[int, deque[Bar]] = {
            s: deque(maxlen=RECENT_BARS[s]) for s in BAR_INTERVALS_S
        }
        # What the current batch changed; cleared by the publisher's flush.
        self.trades: list[TradeTuple] = []
        self.closed_bars: list[Bar] = []
        self.depth_dirty = [False, False, False]  # indexed by side
        self.full_depth: dict[int, tuple[int, int, int, int]] = {}
        """Levels changed by the batch by level key, last state wins: every level with full
        depth, else every change to a level of the published window (a dirty side re-reads
        only those)."""
        self.queues: dict[int, None] = {}
        """Level keys whose order queues the batch touched, in the order first touched."""
        self.quote_dirty = False
        self.status_dirty = False
        self.auction_dirty = False

    def next_bar_close(self) -> int:
        """The earliest end of an open bar, or -1 when none is open."""
        ends = [b.end for b in self.bar_builders if b.end >= 0]
        return min(ends) if ends else -1
