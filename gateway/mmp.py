"""Market maker protection: pull a market maker's quotes when they fill too fast.

Public types: :class:`MmpLimits` (the operator's setting per market maker, in the server
config) and :class:`MarketMakerProtection` (one market maker's running window).

A market maker quotes many instruments at once; news that moves them all can fill every quote
before the maker can withdraw them. The exchange counts the quantity filled on the maker's
quotes over a trailing window; once it reaches the limit, the gateway cancels every live quote
of the maker (reason ``MMP_TRIGGERED``) and refuses its mass quotes (``MMP_FROZEN``) until the
freeze ends, or until the maker sends a mass quote with ``mmp_reset`` set. Times are the
sequenced commands' timestamps, so the window does not depend on when the loop runs.

The counters live in the gateway's memory only: a restart starts every window empty and
every maker unfrozen (the journal holds the cancels themselves).
"""

from __future__ import annotations

from collections import deque

import msgspec

FOREVER = -1
"""``frozen_until`` of a freeze that lasts until the market maker resets it."""


class MmpLimits(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Pull the quotes once ``qty`` units fill on them within ``window_ms``; refuse new quotes
    for ``freeze_ms`` after (0: until the market maker resets)."""

    window_ms: int
    qty: int
    freeze_ms: int = 0

    def __post_init__(self) -> None:
        if self.window_ms <= 0 or self.qty <= 0 or self.freeze_ms < 0:
            raise ValueError("mmp needs window_ms > 0, qty > 0 and freeze_ms >= 0")


class MarketMakerProtection:
    """One market maker's fills over the trailing window, and its freeze.

    >>> mmp = MarketMakerProtection(MmpLimits(window_ms=1_000, qty=10, freeze_ms=500))
    >>> ms = 1_000_000
    >>> [mmp.on_fill(0, 4), mmp.on_fill(900 * ms, 5), mmp.on_fill(1_500 * ms, 3)]
    [False, False, False]
    >>> mmp.on_fill(1_600 * ms, 3), mmp.frozen(1_700 * ms), mmp.frozen(2_100 * ms)
    (True, True, False)
    """

    __slots__ = ("filled", "fills", "freeze_ns", "frozen_until", "qty", "window_ns")

    def __init__(self, limits: MmpLimits) -> None:
        self.window_ns = limits.window_ms * 1_000_000
        self.qty = limits.qty
        self.freeze_ns = limits.freeze_ms * 1_000_000
        self.fills: deque[tuple[int, int]] = deque()
        self.filled = 0
        """Quantity filled within the window (the sum over ``fills``)."""
        self.frozen_until = 0
        """0: not frozen; :data:`FOREVER`: until reset; else the end of the freeze (ns)."""

    def on_fill(self, ts: int, qty: int) -> bool:
        """Count a fill on a quote at ``ts``; True if it takes the window to the limit now
        (the caller pulls the quotes). A maker already frozen is not tripped again."""
        fills = self.fills
        fills.append((ts, qty))
        self.filled += qty
        start = ts - self.window_ns
        while fills[0][0] <= start:
            self.filled -= fills.popleft()[1]
        if self.filled < self.qty or self.frozen(ts):
            return False
        self.frozen_until = ts + self.freeze_ns if self.freeze_ns else FOREVER
        fills.clear()
        self.filled = 0
        return True

    def frozen(self, now: int) -> bool:
        until = self.frozen_until
        return until == FOREVER or now < until

    def reset(self) -> None:
        """The market maker lifts its freeze (a mass quote with ``mmp_reset``)."""
        self.frozen_until = 0
