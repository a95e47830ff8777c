"""The FX table: integer rates against CNY, stamped with the time of the command that set them.

Public type: :class:`FxTable`.

A cross-currency amount counts against a limit converted at the table's rate, plus a haircut,
rounded up: an obligation is never made smaller by crossing a currency. A table older than its
allowed age (or one without the currency) refuses new cross-currency exposure, because a limit
checked at a stale rate checks nothing.
"""

from __future__ import annotations

from engine.codes import Reason
from engine.instruments import CURRENCY_MINOR_UNITS
from risk.messages import BASE_CURRENCY, FX_SCALE, FxRate

OK = Reason.NONE


class FxTable:
    """Rates as CNY per unit times 10^8; ``stamp`` is the setting command's time (ns)."""

    __slots__ = ("haircut_bp", "max_age_ns", "rates", "stamp")

    def __init__(self) -> None:
        self.rates: dict[str, int] = {BASE_CURRENCY: FX_SCALE}
        self.stamp = 0
        self.haircut_bp = 0
        self.max_age_ns = 0

    @staticmethod
    def problems(rates: tuple[FxRate, ...], current: dict[str, int]) -> bool:
        """True if a new table is unusable: an unknown or repeated currency, a rate that is
        not positive, a base rate other than 1, or a currency of the old table left out
        (exposure booked in a currency must stay convertible)."""
        seen = {r.currency for r in rates}
        return (
            len(seen) != len(rates)
            or any(r.currency not in CURRENCY_MINOR_UNITS or r.rate <= 0 for r in rates)
            or any(r.currency == BASE_CURRENCY and r.rate != FX_SCALE for r in rates)
            or not set(current) - {BASE_CURRENCY} <= seen
        )

    def set(self, rates: tuple[FxRate, ...], ts: int) -> None:
        self.rates = {BASE_CURRENCY: FX_SCALE} | {r.currency: r.rate for r in rates}
        self.stamp = ts

    def reason(self, src: str, dst: str, ts: int) -> Reason:
        """Why ``src`` cannot be converted to ``dst`` for a new order at ``ts``, or NONE."""
        if src not in self.rates or dst not in self.rates:
            return Reason.FX_RATE_MISSING
        if ts - self.stamp > self.max_age_ns:
            return Reason.FX_RATE_STALE
        return OK

    def convert(self, amount: int, src: str, dst: str) -> int:
        """``amount`` minor units of ``src`` in minor units of ``dst``, haircut added, rounded up.

        amount x (rate_src / 10^m_src) / (rate_dst / 10^m_dst) x (1 + h), as one fraction.
        """
        if src == dst or not amount:
            return amount
        rates = self.rates
        num = amount * rates[src] * 10 ** _minor(dst) * (10_000 + self.haircut_bp)
        den = rates[dst] * 10 ** _minor(src) * 10_000
        return -(-num // den)


def _minor(currency: str) -> int:
    return CURRENCY_MINOR_UNITS[currency]
