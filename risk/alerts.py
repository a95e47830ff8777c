"""Threshold alerts: a limit's usage crossing the warning level or the full limit, either way.

Public types: :class:`Alerts`, :class:`Watched`; function :func:`thresholds`.

Levels are 0 (below the warning), 1 (at or above the warning, 80% by default) and 2 (at or
above the limit: risk-increasing orders are blocked). An alert is raised once per crossing,
not on every change, so a risk desk sees transitions. A watched usage keeps the band of its
current level, so the hot path tests one chained comparison per change.
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import mypyc_attr

from risk.messages import LimitScope, RiskAlert

LOWEST: Final = -(1 << 62)
HIGHEST: Final = 1 << 62


def thresholds(limit: int, alert_bp: int) -> tuple[int, int]:
    """Usage at which the warning and the full level start; a zero limit is full at 1.

    >>> thresholds(1_000, 8_000), thresholds(999, 8_000), thresholds(0, 8_000)
    ((800, 1000), (800, 999), (1, 1))
    """
    if limit <= 0:
        return 1, 1
    return max(1, -(-limit * alert_bp // 10_000)), limit


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class Watched:
    """A usage with a limit: ``level`` and the band ``[low, high)`` that keeps it there."""

    __slots__ = ("full_at", "high", "level", "low", "warn_at")

    def __init__(self) -> None:
        self.level = 0
        self.warn_at = self.full_at = 1
        self.low, self.high = LOWEST, 1

    def set_level(self, used: int) -> bool:
        """Move to the level of ``used``; True if it changed."""
        level = (used >= self.warn_at) + (used >= self.full_at)
        self.low, self.high = (
            (LOWEST, self.warn_at),
            (self.warn_at, self.full_at),
            (self.full_at, HIGHEST),
        )[level]
        changed = level != self.level
        self.level = level
        return changed


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class Alerts:
    """Collects the alerts of the command being applied; stamped with it when flushed."""

    __slots__ = ("alert_bp", "pending")

    def __init__(self) -> None:
        self.alert_bp = 8_000
        self.pending: list = []
        """Alerts as tuples (stamped on flush) and finished risk events."""

    def emit(
        self, scope: LimitScope, subject: str, currency: str, used: int, limit: int, level: int
    ) -> None:
        level_bp = (0, self.alert_bp, 10_000)[level]
        self.pending.append((scope, subject, currency, used, limit, level_bp))

    def flush(self, out: list, seq: int, ts: int) -> None:
        """Append the pending alerts (and other risk events: grant transfers) to the
        command's events, in the order they arose, stamped with the command."""
        out.extend(
            RiskAlert(seq, ts, *item) if type(item) is tuple else item for item in self.pending
        )
        self.pending.clear()
