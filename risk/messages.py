"""Risk commands and events: what operators send to set credit, and what risk reports back.

Commands (verbs, all sequenced and journaled like orders, so a replay rebuilds the same
credit state): :class:`SetRiskParams`, :class:`SetGuarantor`, :class:`SetCreditLine`,
:class:`SetLimits`, :class:`SetPermissions`, :class:`SetHolding`, :class:`SetAssetLimit`,
:class:`RegisterExclusiveGrant`, :class:`SetFxRates`, :class:`SetMargin`, :class:`Settle`,
:class:`KillSwitch`; their union :data:`RiskCommand`.

Events (facts): :class:`RiskConfigured` (a setting took effect; it carries the command),
:class:`KillSwitchChanged`, :class:`RiskAlert`, :class:`GrantTransferred`; their union
:data:`RiskEvent`. A refused command answers with the engine's
:class:`~engine.messages.OrderRejected` (request ``ADMIN``) and a 2xxx reason.

Amounts are integers in the minor units of the currency named next to them; FX rates are
CNY per one unit of the currency times 10^8 (``FX_SCALE``); shares are basis points.
"""

from __future__ import annotations

import datetime as dt
from enum import IntEnum, StrEnum, auto

import msgspec

from engine.instruments import InstrumentKind
from engine.messages import Command, Event

FX_SCALE = 100_000_000
"""Rates are CNY per unit of a currency times 10^8: USD at 7.1234 is 712_340_000."""

BASE_CURRENCY = "CNY"
"""The FX table's base and the currency of asset concentration limits."""


class GuarantorKind(StrEnum):
    BANK = auto()
    GUARANTEE_COMPANY = auto()
    INSURER = auto()


class KillScope(IntEnum):
    PARTICIPANT = 1
    GUARANTOR = 2


class LimitScope(IntEnum):
    """Which limit a :class:`RiskAlert` is about."""

    CREDIT_LINE = 1
    GUARANTOR = 2
    ASSET_PARTICIPANT = 3
    """One participant's exposure to one IP asset; ``subject`` is ``participant/asset``."""
    ASSET_MARKET = 4
    """The whole market's exposure to one IP asset."""


class Backer(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    """A guarantor's share of one credit line, in basis points of the line's usage."""

    guarantor: str
    share_bp: int = 10_000


class FxRate(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    currency: str
    rate: int
    """CNY per one unit of ``currency``, times :data:`FX_SCALE`."""


# -- commands -------------------------------------------------------------------------------


class SetRiskParams(Command, frozen=True):
    """Exchange-wide parameters: fee, FX haircut and maximum table age, alert threshold."""

    fee_bp: int = 0
    """Trading fee on notional, reserved with a buy and charged on every fill."""
    fx_haircut_bp: int = 0
    """Added to a cross-currency amount before it counts against a limit."""
    fx_max_age_ns: int = 86_400_000_000_000
    alert_bp: int = 8_000
    """Usage at which a :class:`RiskAlert` warns (100% always alerts and blocks)."""


class SetGuarantor(Command, frozen=True):
    """Create or change a guarantor; ``capacity`` caps its participants' combined usage."""

    guarantor: str
    name: str
    kind: GuarantorKind
    currency: str
    capacity: int


class SetCreditLine(Command, frozen=True):
    """A participant's credit limit in one currency, backed by guarantors' shares.

    The shares add up to 10,000 bp, and every backer's guarantee is in the line's currency.
    """

    participant: str
    currency: str
    limit: int
    backers: tuple[Backer, ...]


class SetLimits(Command, frozen=True):
    """Per-participant order controls; 0 switches a control off.

    ``max_order_notional`` is in the credit line's currency; ``collar_bp`` bounds limit and
    stop prices around the reference price; ``position_limit`` caps each derivative's long or
    short position plus working orders, in contracts.
    """

    participant: str
    max_order_qty: int = 0
    max_order_notional: int = 0
    collar_bp: int = 0
    position_limit: int = 0


class SetPermissions(Command, frozen=True):
    """The instrument kinds a participant may trade (it may trade nothing else)."""

    participant: str
    kinds: tuple[InstrumentKind, ...]


class SetHolding(Command, frozen=True):
    """Deposit record: units of an instrument the participant holds (and so may sell)."""

    participant: str
    instrument: str
    qty: int


class SetAssetLimit(Command, frozen=True):
    """Concentration caps on one IP asset across every instrument on it, in CNY minor units.

    ``participant_limit`` caps each participant's exposure, ``market_limit`` all of theirs
    together (one invalidation hits every holder); 0 switches a cap off.
    """

    asset_id: str
    participant_limit: int = 0
    market_limit: int = 0


class RegisterExclusiveGrant(Command, frozen=True):
    """An exclusive grant made off the exchange: the licensor may not grant over it again."""

    asset_id: str
    holder: str
    territory: tuple[str, ...]
    field_of_use: str
    term_start: dt.date
    term_end: dt.date


class SetFxRates(Command, frozen=True):
    """Replace the FX table; the command's time is the table's stamp."""

    rates: tuple[FxRate, ...]


class SetMargin(Command, frozen=True):
    """A derivative's initial margin per contract, in the instrument's currency."""

    instrument: str
    initial_margin: int


class Settle(Command, frozen=True):
    """Cash settled for a participant in one instrument: ``amount`` paid (> 0) or received (< 0).

    Obligations net per instrument until settlement; this releases the settled part.
    """

    participant: str
    instrument: str
    amount: int


class KillSwitch(Command, frozen=True):
    """Engage (block new orders, cancel working ones in this command) or release a kill switch."""

    scope: KillScope
    target: str
    engaged: bool = True


RiskSetting = (
    SetRiskParams
    | SetGuarantor
    | SetCreditLine
    | SetLimits
    | SetPermissions
    | SetHolding
    | SetAssetLimit
    | RegisterExclusiveGrant
    | SetFxRates
    | SetMargin
    | Settle
)
"""Commands that change a setting and are echoed by :class:`RiskConfigured`."""

RiskCommand = RiskSetting | KillSwitch


# -- events ---------------------------------------------------------------------------------


class RiskConfigured(Event, frozen=True):
    """A risk setting took effect; ``command`` is exactly what was applied."""

    command: RiskSetting


class KillSwitchChanged(Event, frozen=True):
    """A kill switch was engaged or released; ``participants`` are the ones it covers."""

    scope: KillScope
    target: str
    engaged: bool
    participants: tuple[str, ...]


class RiskAlert(Event, frozen=True):
    """Usage of a limit crossed a threshold: ``level_bp`` is 0 (back below the warning),
    the warning level (80% by default) or 10,000 (full: risk-increasing orders blocked)."""

    scope: LimitScope
    subject: str
    currency: str
    used: int
    limit: int
    level_bp: int


class GrantTransferred(Event, frozen=True):
    """A trade in an exclusive or sole licence moved its grant to the buyer."""

    instrument: str
    holder: str


RiskEvent = RiskConfigured | KillSwitchChanged | RiskAlert | GrantTransferred
