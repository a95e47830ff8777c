"""Order controls and concentration: limits that do not depend on a guarantor.

Public types: :class:`Limits` (per participant: maximum order size and notional, price collar,
derivative position limit), :class:`AssetLimits` (caps on exposure to one IP asset across every
instrument on it); function :func:`position_reason`.

Concentration matters for IP because one invalidation (a patent revoked, a trademark
cancelled) hits every instrument on the asset at once: a participant's exposure to an asset,
and the whole market's, are capped in CNY whatever the instruments' currencies.
"""

from __future__ import annotations

from typing import Final

from mypy_extensions import mypyc_attr

from engine.codes import Reason
from risk.alerts import Alerts, thresholds
from risk.messages import BASE_CURRENCY, LimitScope, SetAssetLimit, SetLimits

OK: Final = Reason.NONE
NO_LIMIT: Final = 1 << 62
"""Stands for "no limit" so the hot path compares without a branch on zero."""


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class Limits:
    """A participant's order controls; an unset control is :data:`NO_LIMIT`.

    The collar is kept as the price range it lets through around the last reference it was
    centred on (the reference seldom moves), so an order's check is one chained comparison.
    """

    __slots__ = (
        "collar_bp",
        "collar_high",
        "collar_low",
        "max_notional",
        "max_qty",
        "position_limit",
        "reference",
    )

    def __init__(self, cmd: SetLimits | None = None) -> None:
        self.max_qty = (cmd and cmd.max_order_qty) or NO_LIMIT
        self.max_notional = (cmd and cmd.max_order_notional) or NO_LIMIT
        self.collar_bp = (cmd and cmd.collar_bp) or 0
        self.position_limit = (cmd and cmd.position_limit) or NO_LIMIT
        self.reference = -1
        self.collar_low = self.collar_high = 0

    def centre(self, reference: int) -> None:
        """Centre the collar on ``reference``: a price passes if its distance from it is at
        most ``reference x collar_bp / 10,000`` (integer distances, so the floor of it)."""
        reach = reference * self.collar_bp // 10_000
        self.reference = reference
        self.collar_low, self.collar_high = reference - reach, reference + reach

    def collar_reason(self, reference: int, price: int) -> Reason:
        """PRICE_COLLAR if ``price`` (not 0) is further than ``collar_bp`` from the reference.

        >>> limits = Limits(SetLimits("P", collar_bp=500))
        >>> limits.collar_reason(10_000, 10_500), limits.collar_reason(10_000, 9_499)
        (<Reason.NONE: 0>, <Reason.PRICE_COLLAR: 2004>)
        """
        if reference != self.reference:
            self.centre(reference)
        if price and not self.collar_low <= price <= self.collar_high:
            return Reason.PRICE_COLLAR
        return OK

    def state(self) -> tuple:
        return (self.max_qty, self.max_notional, self.collar_bp, self.position_limit)


def position_reason(
    limit: int, qty: int, working_buy: int, working_sell: int, buy: bool, extra: int
) -> Reason:
    """POSITION_LIMIT if the position plus every working order on the order's side, plus
    ``extra``, would pass ``limit`` contracts long or short (the worst case if all fill)."""
    worst = qty + working_buy + extra if buy else working_sell + extra - qty
    return Reason.POSITION_LIMIT if worst > limit else OK


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class AssetLimits:
    """Per-asset caps and the CNY exposure counted against them (limited assets only)."""

    def __init__(self, alerts: Alerts) -> None:
        self.alerts = alerts
        self.limits: dict[str, tuple[int, int]] = {}
        """asset -> (participant_limit, market_limit); 0 is no cap."""
        self.by_participant: dict[tuple[str, str], int] = {}
        self.market: dict[str, int] = {}
        self.levels: dict[tuple[int, str], int] = {}

    def set(self, cmd: SetAssetLimit) -> None:
        if cmd.participant_limit or cmd.market_limit:
            self.limits[cmd.asset_id] = (cmd.participant_limit, cmd.market_limit)
        else:
            self.limits.pop(cmd.asset_id, None)

    def limited(self, asset_ids: tuple[str, ...]) -> tuple[tuple[str, int, int], ...]:
        """The capped assets among ``asset_ids`` with their caps, for an instrument's terms."""
        limits = self.limits
        return tuple((a, *limits[a]) for a in asset_ids if a in limits)

    def reason(self, participant: str, limited: tuple, delta: int) -> Reason:
        """ASSET_CONCENTRATION if ``delta`` more CNY on these assets passes a cap."""
        for asset, per_participant, market in limited:
            if per_participant and self.by_participant.get((participant, asset), 0) + delta > (
                per_participant
            ):
                return Reason.ASSET_CONCENTRATION
            if market and self.market.get(asset, 0) + delta > market:
                return Reason.ASSET_CONCENTRATION
        return OK

    def add(self, participant: str, limited: tuple, delta: int) -> None:
        """Count ``delta`` CNY of a participant's exposure on each capped asset; alert."""
        for asset, per_participant, market in limited:
            key = (participant, asset)
            used = self.by_participant.get(key, 0) + delta
            self.by_participant[key] = used
            total = self.market.get(asset, 0) + delta
            self.market[asset] = total
            if per_participant:
                self._alert(
                    LimitScope.ASSET_PARTICIPANT, f"{participant}/{asset}", used, per_participant
                )
            if market:
                self._alert(LimitScope.ASSET_MARKET, asset, total, market)

    def reset(self) -> None:
        """Forget counted exposure (before the ledger counts it again from positions)."""
        self.by_participant.clear()
        self.market.clear()

    def realert(self) -> None:
        """Raise the alerts a recount or a new cap implies."""
        for (participant, asset), used in sorted(self.by_participant.items()):
            per_participant, _ = self.limits.get(asset, (0, 0))
            if per_participant:
                self._alert(
                    LimitScope.ASSET_PARTICIPANT, f"{participant}/{asset}", used, per_participant
                )
        for asset, total in sorted(self.market.items()):
            _, market = self.limits.get(asset, (0, 0))
            if market:
                self._alert(LimitScope.ASSET_MARKET, asset, total, market)

    def _alert(self, scope: LimitScope, subject: str, used: int, limit: int) -> None:
        key = (int(scope), subject)
        warn, full = thresholds(limit, self.alerts.alert_bp)
        level = (used >= warn) + (used >= full)
        if level != self.levels.get(key, 0):
            self.levels[key] = level
            self.alerts.emit(scope, subject, BASE_CURRENCY, used, limit, level)

    def state(self) -> tuple:
        return (
            sorted(self.limits.items()),
            sorted(self.by_participant.items()),
            sorted(self.market.items()),
            sorted(self.levels.items()),
        )
