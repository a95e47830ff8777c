"""OHLCV bars and daily statistics, built from trades and closed by time.

Public types: :class:`BarBuilder`, :class:`DayStats`; constant :data:`NS_PER_DAY`.

Time comes only from the trades' and the caller's timestamps (ns), never from a clock, so
the same trades always give the same bars. A bar covers ``[start, start + interval)``
aligned to the epoch; it closes when a trade or a call to :meth:`BarBuilder.close_due`
reaches its end. Intervals without trades produce no bar.
"""

from __future__ import annotations

from marketdata.messages import Bar

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S


class BarBuilder:
    """The open bar of one interval for one instrument."""

    __slots__ = ("_close", "_high", "_low", "_open", "_trades", "_turnover", "_volume",
                 "end", "interval_ns", "interval_s", "start")

    def __init__(self, interval_s: int) -> None:
        self.interval_s = interval_s
        self.interval_ns = interval_s * NS_PER_S
        self.start = -1
        self.end = -1  # -1: no open bar

    def add(self, price: int, qty: int, ts: int) -> Bar | None:
        """Count one trade; return the bar it closed by starting a later interval, if any."""
        closed = None
        if ts >= self.end:
            closed = self.close_due(ts)
            self.start = ts - ts % self.interval_ns
            self.end = self.start + self.interval_ns
            self._open = self._high = self._low = price
            self._volume = self._turnover = self._trades = 0
        elif price > self._high:
            self._high = price
        elif price < self._low:
            self._low = price
        self._close = price
        self._volume += qty
        self._turnover += price * qty
        self._trades += 1
        return closed

    def close_due(self, now_ns: int) -> Bar | None:
        """Close and return the open bar if ``now_ns`` is at or past its end."""
        if self.end < 0 or now_ns < self.end:
            return None
        self.end = -1
        return Bar(
            self.interval_s,
            self.start,
            self._open,
            self._high,
            self._low,
            self._close,
            self._volume,
            self._turnover,
            self._trades,
        )


class DayStats:
    """Open, high, low, last, volume and turnover of the current UTC day for one instrument."""

    __slots__ = ("day", "high", "last", "low", "open", "trades", "turnover", "volume")

    def __init__(self) -> None:
        self.day = -1
        self._reset(-1)

    def _reset(self, day: int) -> None:
        self.day = day
        self.open = self.high = self.low = self.last = 0
        self.volume = self.turnover = self.trades = 0

    def add(self, price: int, qty: int, ts: int) -> None:
        """Count one trade, starting a new day's figures when its UTC day is later."""
        day = ts // NS_PER_DAY
        if day != self.day:
            self._reset(day)
            self.open = self.high = self.low = price
        elif price > self.high:
            self.high = price
        elif price < self.low:
            self.low = price
        self.last = price
        self.volume += qty
        self.turnover += price * qty
        self.trades += 1

    @property
    def vwap(self) -> int:
        """Volume-weighted average price, rounded half up; 0 before any trade.

        >>> s = DayStats(); s.add(100, 1, 0); s.add(101, 2, 0); s.vwap  # 302 / 3 = 100.67
        101
        """
        if not self.volume:
            return 0
        return (2 * self.turnover + self.volume) // (2 * self.volume)
