"""A small market with risk on, shared by the risk tests (and a sanity test of it).

:func:`market` builds a real :class:`~engine.core.Core` with a :class:`~risk.engine.RiskEngine`
over a handful of instruments, one of each kind risk treats differently, and sets up credit
through risk commands. :class:`Market` applies commands with increasing sequence numbers and
times and checks every invariant (books and risk) after each one.
"""

from __future__ import annotations

import datetime as dt

from engine.codes import Reason
from engine.core import Core
from engine.instruments import (
    DerivativeTerms,
    Instrument,
    InstrumentKind,
    IpType,
    OptionType,
    RightType,
    Settlement,
)
from engine.messages import Event, NewOrder, OrderRejected, OrderType, Side, TimeInForce
from risk.engine import RiskEngine
from risk.messages import (
    Backer,
    FxRate,
    GuarantorKind,
    SetCreditLine,
    SetFxRates,
    SetGuarantor,
    SetHolding,
    SetLimits,
    SetMargin,
    SetPermissions,
    SetRiskParams,
)

BUY, SELL = Side.BUY, Side.SELL
ULR = "ULR"  # CNY unit licence, tick 1, reference 100, band 50..150
NOTE = "NOTE"  # USD note tranche, reference 100 cents, band 50..150
RPU = "RPU"  # HKD royalty participation, reference 100, band 50..150
FUT = "FUT"  # CNY royalty future, multiplier 10
OPT = "OPT"  # CNY licence option, multiplier 1
EXL = "EXL"  # CNY exclusive licence lot, issuer LICENSOR
ASG = "ASG"  # CNY assignment lot, issuer OWNER
TS0 = 1_000_000_000
STEP = 1_000
ALL_KINDS = tuple(InstrumentKind)


def instrument(instrument_id: str, **overrides) -> Instrument:
    fields = {
        "instrument_id": instrument_id,
        "name": f"test {instrument_id}",
        "kind": InstrumentKind.UNIT_LICENCE,
        "ip_type": IpType.INVENTION_PATENT,
        "ip_asset_ids": ("CN-PAT-1",),
        "right": RightType.STANDARDIZED_LICENCE_UNIT,
        "territory": ("CN",),
        "field_of_use": "batteries",
        "term_start": dt.date(2026, 1, 1),
        "term_end": dt.date(2030, 12, 31),
        "currency": "CNY",
        "tick_size": 1,
        "lot_size": 1,
        "reference_price": 100,
        "band_bp": 5_000,
        "issuer": "ISSUER",
    }
    fields.update(overrides)
    return Instrument(**fields)


def instruments() -> list[Instrument]:
    future = DerivativeTerms("IDX", dt.date(2028, 1, 20), 10, Settlement.CASH)
    option = DerivativeTerms(
        ULR, dt.date(2027, 12, 17), 1, Settlement.PHYSICAL, OptionType.CALL, 120
    )
    return [
        instrument(ULR),
        instrument(
            NOTE,
            kind=InstrumentKind.IP_NOTE_TRANCHE,
            currency="USD",
            ip_asset_ids=("POOL-1",),
            right=RightType.ROYALTY_INTEREST,
        ),
        instrument(
            RPU,
            kind=InstrumentKind.ROYALTY_PARTICIPATION,
            currency="HKD",
            ip_asset_ids=("CR-1",),
            right=RightType.ROYALTY_INTEREST,
        ),
        instrument(
            FUT,
            kind=InstrumentKind.ROYALTY_FUTURE,
            issuer="",
            derivative=future,
            right=RightType.ROYALTY_INTEREST,
        ),
        instrument(OPT, kind=InstrumentKind.LICENCE_OPTION, issuer="", derivative=option),
        instrument(
            EXL,
            kind=InstrumentKind.EXCLUSIVE_LICENCE_LOT,
            issuer="LICENSOR",
            ip_asset_ids=("TM-1",),
            right=RightType.EXCLUSIVE_LICENCE,
            field_of_use="class 33",
        ),
        instrument(
            ASG,
            kind=InstrumentKind.ASSIGNMENT_LOT,
            issuer="OWNER",
            ip_asset_ids=("PV-1",),
            right=RightType.ASSIGNMENT,
        ),
    ]


class Market:
    """A core with risk on; ``apply`` stamps commands and checks every invariant after each."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.risk: RiskEngine = core.risk
        self.seq = 0
        self.ts = TS0
        self.next_id = 0

    def apply(self, cmd, ts: int | None = None) -> list[Event]:
        self.seq += 1
        self.ts = ts if ts is not None else self.ts + STEP
        events = self.core.apply(cmd, self.seq, self.ts)
        self.core.check()
        return events

    def order(
        self, participant: str, side: Side, qty: int, price: int = 0, instrument: str = ULR, **kw
    ) -> tuple[int, list[Event]]:
        """Enter an order with a fresh id; returns the id and the events."""
        self.next_id += 1
        cmd = NewOrder(instrument, self.next_id, participant, side, qty, price, **kw)
        return self.next_id, self.apply(cmd)

    def market_order(
        self, participant: str, side: Side, qty: int, instrument: str = ULR, **kw
    ) -> tuple[int, list[Event]]:
        kw.setdefault("tif", TimeInForce.IOC)
        return self.order(participant, side, qty, 0, instrument, order_type=OrderType.MARKET, **kw)

    def account(self, participant: str):
        return self.risk.accounts[participant]

    def position(self, participant: str, instrument: str = ULR):
        return self.risk.accounts[participant].positions[instrument]

    def used(self, participant: str) -> int:
        return self.risk.accounts[participant].used


def reason(events: list[Event]) -> Reason:
    """The reason of the one reject among ``events`` (NONE when nothing was rejected)."""
    found = [e.reason for e in events if type(e) is OrderRejected]
    return found[0] if found else Reason.NONE


def of_type(events: list[Event], cls: type) -> list:
    return [e for e in events if type(e) is cls]


def market(
    *,
    limit: int = 1_000_000,
    capacity: int = 10_000_000,
    participants: tuple[str, ...] = ("A", "B", "C"),
    holding: int = 1_000,
    fee_bp: int = 0,
    haircut_bp: int = 0,
    max_age_ns: int = 10**15,
    risk: RiskEngine | None = None,
) -> Market:
    """Participants with CNY lines backed by one bank, every permission, and a holding of
    every fully paid instrument; margins set; rates USD 7.0 and HKD 0.9 CNY."""
    m = Market(Core(instruments(), risk=risk or RiskEngine()))
    setup = [
        SetRiskParams(fee_bp=fee_bp, fx_haircut_bp=haircut_bp, fx_max_age_ns=max_age_ns),
        SetFxRates((FxRate("USD", 700_000_000), FxRate("HKD", 90_000_000))),
        SetGuarantor("BANK", "test bank", GuarantorKind.BANK, "CNY", capacity),
        SetMargin(FUT, 50),
        SetMargin(OPT, 20),
    ]
    for p in participants:
        setup += [
            SetCreditLine(p, "CNY", limit, (Backer("BANK"),)),
            SetLimits(p),
            SetPermissions(p, ALL_KINDS),
        ]
        setup += [SetHolding(p, i, holding) for i in (ULR, NOTE, RPU)]
    for issuer in ("ISSUER", "LICENSOR", "OWNER"):
        setup.append(SetPermissions(issuer, ALL_KINDS))
    for cmd in setup:
        assert reason(m.apply(cmd)) == Reason.NONE, cmd
    return m


def test_market_when_built_then_consistent_and_fingerprinted():
    m = market()
    assert m.used("A") == 0 and m.account("A").limit == 1_000_000
    assert m.core.fingerprint() == m.core.fingerprint()
