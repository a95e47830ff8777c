"""A risk setup in TOML, turned into the risk commands that establish it.

Public functions: :func:`load_setup`, :func:`demo_setup`, :func:`bootstrap`.

The setup is not loaded into the engine behind the journal's back: it becomes ordinary
commands (``SetRiskParams``, ``SetFxRates``, ``SetGuarantor``, ``SetCreditLine``, ...), which
the server sequences and journals like any other, so a replay rebuilds the same credit state.
Amounts are integers in minor units; FX rates are decimal strings of CNY per unit (exact, so
``"7.1050"`` is stored as 710_500_000). See ``risk/data/demo_risk.toml`` for every field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib import resources
from pathlib import Path

import msgspec

from engine.instruments import InstrumentKind
from engine.messages import OrderRejected
from risk.messages import (
    FX_SCALE,
    Backer,
    FxRate,
    GuarantorKind,
    RegisterExclusiveGrant,
    RiskCommand,
    SetAssetLimit,
    SetCreditLine,
    SetFxRates,
    SetGuarantor,
    SetHolding,
    SetLimits,
    SetMargin,
    SetPermissions,
    SetRiskParams,
)


class _Params(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    fee_bp: int = 0
    fx_haircut_bp: int = 0
    fx_max_age_s: int = 86_400
    alert_bp: int = 8_000


class _Guarantor(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    name: str
    kind: GuarantorKind
    currency: str
    capacity: int


class _Backer(msgspec.Struct, forbid_unknown_fields=True):
    guarantor: str
    share_bp: int = 10_000


class _Participant(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    currency: str = "CNY"
    limit: int = 0
    backers: list[_Backer] = []
    kinds: list[InstrumentKind] = []
    max_order_qty: int = 0
    max_order_notional: int = 0
    collar_bp: int = 0
    position_limit: int = 0
    holdings: dict[str, int] = {}


class _Margin(msgspec.Struct, forbid_unknown_fields=True):
    instrument: str
    initial_margin: int


class _AssetLimit(msgspec.Struct, forbid_unknown_fields=True):
    asset_id: str
    participant_limit: int = 0
    market_limit: int = 0


class _Grant(msgspec.Struct, forbid_unknown_fields=True):
    asset_id: str
    holder: str
    territory: list[str]
    field_of_use: str
    term_start: dt.date
    term_end: dt.date


class _Setup(msgspec.Struct, forbid_unknown_fields=True):
    params: _Params = _Params()
    fx: dict[str, str] = {}
    guarantors: list[_Guarantor] = []
    participants: list[_Participant] = []
    margins: list[_Margin] = []
    asset_limits: list[_AssetLimit] = []
    exclusive_grants: list[_Grant] = []


def fx_rate(currency: str, text: str) -> FxRate:
    """A decimal rate string as the table's scaled integer; refuses digits beyond 10^-8.

    >>> fx_rate("USD", "7.1050")
    FxRate(currency='USD', rate=710500000)
    """
    scaled = Decimal(text) * FX_SCALE
    if scaled != scaled.to_integral_value() or scaled <= 0:
        raise ValueError(f"{currency}: rate {text!r} is not positive with at most 8 decimals")
    return FxRate(currency, int(scaled))


def load_setup(source: str | Path | bytes) -> list[RiskCommand]:
    """The commands that establish the setup in a TOML file (a path) or TOML bytes.

    Order matters and is fixed: parameters, FX, guarantors, lines, limits, permissions,
    holdings, margins, asset caps, grants; participants in file order.
    """
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    setup = msgspec.toml.decode(data, type=_Setup)
    p = setup.params
    commands: list[RiskCommand] = [
        SetRiskParams(p.fee_bp, p.fx_haircut_bp, p.fx_max_age_s * 1_000_000_000, p.alert_bp),
        SetFxRates(tuple(fx_rate(c, text) for c, text in sorted(setup.fx.items()))),
    ]
    commands += [
        SetGuarantor(g.id, g.name, g.kind, g.currency, g.capacity) for g in setup.guarantors
    ]
    for q in setup.participants:
        backers = tuple(Backer(b.guarantor, b.share_bp) for b in q.backers)
        commands += [
            SetCreditLine(q.id, q.currency, q.limit, backers),
            SetLimits(q.id, q.max_order_qty, q.max_order_notional, q.collar_bp, q.position_limit),
            SetPermissions(q.id, tuple(q.kinds)),
        ]
        commands += [SetHolding(q.id, i, qty) for i, qty in sorted(q.holdings.items())]
    commands += [SetMargin(m.instrument, m.initial_margin) for m in setup.margins]
    commands += [
        SetAssetLimit(a.asset_id, a.participant_limit, a.market_limit) for a in setup.asset_limits
    ]
    commands += [
        RegisterExclusiveGrant(
            g.asset_id, g.holder, tuple(g.territory), g.field_of_use, g.term_start, g.term_end
        )
        for g in setup.exclusive_grants
    ]
    return commands


def demo_setup() -> list[RiskCommand]:
    """The embedded demo market's risk setup (``risk/data/demo_risk.toml``)."""
    return load_setup(resources.files("risk").joinpath("data/demo_risk.toml").read_bytes())


def bootstrap(core, commands: list, seq: int, ts: int) -> tuple[int, list]:
    """Apply setup commands from sequence number ``seq`` at time ``ts`` (tests, benchmarks,
    an embedded core; the server journals them instead). Returns the next free sequence
    number and the events; raises if any command was refused."""
    events: list = []
    for cmd in commands:
        out = core.apply(cmd, seq, ts)
        refused = [e for e in out if type(e) is OrderRejected]
        if refused:
            raise ValueError(f"{cmd!r} refused: {refused[0].reason.name}")
        events += out
        seq += 1
    return seq, events
