"""Instruments and their IP reference data; the embedded demo set.

Public types: :class:`Instrument`, :class:`DerivativeTerms`, the enums :class:`InstrumentKind`,
:class:`IpType`, :class:`RightType`, :class:`TradingRegime`, :class:`Settlement`,
:class:`OptionType`; functions :func:`load_instruments`, :func:`default_instruments`,
:func:`instrument_problems`.

What trades on an IP exchange is a scoped right (who may do what, where, in which field,
for how long), so every instrument carries that scope next to its trading parameters.
Prices are integers in the currency's minor units; the tick and the lot are integers too.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum, auto
from importlib import resources
from pathlib import Path

import msgspec

# ISO 4217 minor-unit exponents of the currencies we list or settle in.
CURRENCY_MINOR_UNITS: dict[str, int] = {
    "CNY": 2,
    "CNH": 2,
    "USD": 2,
    "EUR": 2,
    "HKD": 2,
    "GBP": 2,
    "SGD": 2,
    "CHF": 2,
    "JPY": 0,
    "KRW": 0,
}

BAND_BP_MAX = 10_000
"""A band is at most 100% of the reference price either way."""


class InstrumentKind(StrEnum):
    """What the instrument is; decides its regime, holdings and margin rules."""

    UNIT_LICENCE = auto()
    ROYALTY_PARTICIPATION = auto()
    ROYALTY_FUTURE = auto()
    LICENCE_OPTION = auto()
    IP_NOTE_TRANCHE = auto()
    ASSIGNMENT_LOT = auto()
    EXCLUSIVE_LICENCE_LOT = auto()


DERIVATIVE_KINDS = frozenset({InstrumentKind.ROYALTY_FUTURE, InstrumentKind.LICENCE_OPTION})


class IpType(StrEnum):
    """The kind of intellectual property underneath."""

    INVENTION_PATENT = auto()
    UTILITY_MODEL = auto()
    DESIGN = auto()
    TRADEMARK = auto()
    COPYRIGHT = auto()
    SOFTWARE_COPYRIGHT = auto()
    TRADE_SECRET = auto()
    PLANT_VARIETY = auto()


class RightType(StrEnum):
    """The right a trade conveys."""

    ASSIGNMENT = auto()
    EXCLUSIVE_LICENCE = auto()
    SOLE_LICENCE = auto()
    NON_EXCLUSIVE_LICENCE = auto()
    STANDARDIZED_LICENCE_UNIT = auto()
    ROYALTY_INTEREST = auto()


class TradingRegime(StrEnum):
    """How the instrument's book discovers prices."""

    CONTINUOUS = auto()
    CALL_AUCTION = auto()
    ENGLISH_AUCTION = auto()
    RFQ = auto()


class AuctionRule(StrEnum):
    """Which exchange's tie-break ladder picks the uncross price (see engine/uncross.py)."""

    XETRA = auto()
    EURONEXT = auto()
    SSE = auto()


class Settlement(StrEnum):
    CASH = auto()
    PHYSICAL = auto()


class OptionType(StrEnum):
    CALL = auto()
    PUT = auto()


class DerivativeTerms(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Contract terms of a derivative: what it is on, when it ends, how it settles."""

    underlying: str
    expiry: dt.date
    multiplier: int
    settlement: Settlement
    option_type: OptionType | None = None
    strike: int = 0
    american: bool = False


class Instrument(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One listed instrument: the IP right it conveys and how it trades."""

    instrument_id: str
    name: str
    kind: InstrumentKind
    ip_type: IpType
    ip_asset_ids: tuple[str, ...]
    right: RightType
    territory: tuple[str, ...]
    field_of_use: str
    term_start: dt.date
    term_end: dt.date
    currency: str
    tick_size: int
    lot_size: int
    reference_price: int
    band_bp: int
    regime: TradingRegime = TradingRegime.CONTINUOUS
    dynamic_band_bp: int = 0
    """Width of the dynamic band around the last trade; a trade outside it would start a
    volatility interruption. 0: no dynamic band."""
    vi_duration_ns: int = 120_000_000_000
    """How long a volatility interruption's call lasts before its uncross."""
    auction_rule: AuctionRule = AuctionRule.XETRA
    issuer: str = ""
    derivative: DerivativeTerms | None = None

    @property
    def minor_units(self) -> int:
        """Decimal places of the price currency (ISO 4217)."""
        return CURRENCY_MINOR_UNITS[self.currency]


def instrument_problems(instrument: Instrument) -> list[str]:
    """Say what is wrong with an instrument's reference data; empty when it is sound."""
    i = instrument
    problems = []
    if not i.instrument_id:
        problems.append("instrument_id is empty")
    if i.currency not in CURRENCY_MINOR_UNITS:
        problems.append(f"currency {i.currency!r} is not a supported ISO 4217 code")
    if i.tick_size <= 0:
        problems.append("tick_size must be positive")
    if i.lot_size <= 0:
        problems.append("lot_size must be positive")
    if i.tick_size > 0 and (i.reference_price <= 0 or i.reference_price % i.tick_size):
        problems.append("reference_price must be a positive multiple of tick_size")
    if not 0 < i.band_bp <= BAND_BP_MAX:
        problems.append(f"band_bp must be in 1..{BAND_BP_MAX}")
    if not 0 <= i.dynamic_band_bp <= BAND_BP_MAX or i.vi_duration_ns <= 0:
        problems.append("dynamic_band_bp must be in 0..10000 and vi_duration_ns positive")
    if i.term_end < i.term_start:
        problems.append("term_end is before term_start")
    if not i.ip_asset_ids:
        problems.append("ip_asset_ids is empty")
    if not i.territory:
        problems.append("territory is empty")
    if (i.kind in DERIVATIVE_KINDS) != (i.derivative is not None):
        problems.append("derivative terms are required for, and only for, derivative kinds")
    d = i.derivative
    if d is not None:
        if d.multiplier <= 0:
            problems.append("derivative multiplier must be positive")
        if i.kind is InstrumentKind.LICENCE_OPTION and (d.option_type is None or d.strike <= 0):
            problems.append("a licence option needs option_type and a positive strike")
    return problems


class _InstrumentFile(msgspec.Struct, forbid_unknown_fields=True):
    instruments: list[Instrument]


def load_instruments(source: str | Path | bytes) -> list[Instrument]:
    """Load instruments from a TOML file (a path) or TOML bytes; raise if any is unsound."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    instruments = msgspec.toml.decode(data, type=_InstrumentFile).instruments
    ids = [i.instrument_id for i in instruments]
    if len(set(ids)) != len(ids):
        raise ValueError(
            f"instrument ids listed twice: {sorted({i for i in ids if ids.count(i) > 1})}"
        )
    for instrument in instruments:
        problems = instrument_problems(instrument)
        if problems:
            raise ValueError(f"{instrument.instrument_id}: {'; '.join(problems)}")
    return instruments


def default_instruments() -> list[Instrument]:
    """The embedded demo market: a handful of realistic IP instruments shipped in the package."""
    data = resources.files("engine").joinpath("data/demo_instruments.toml").read_bytes()
    return load_instruments(data)
