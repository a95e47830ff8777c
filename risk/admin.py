"""Risk administration: the handlers the core dispatches for risk commands.

Public function: :func:`handlers`. Each handler validates its command and either changes the
risk state and reports :class:`~risk.messages.RiskConfigured` (or
:class:`~risk.messages.KillSwitchChanged`), or changes nothing and reports an
``OrderRejected`` with request ``ADMIN`` and a 2xxx reason. A setting that moves many numbers
(FX, caps, lines, fees, margins) recounts them from the positions and raises the alerts the new
numbers imply, inside the same command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.codes import Reason
from engine.instruments import CURRENCY_MINOR_UNITS
from engine.messages import OrderRejected, Request
from risk.credit import Guarantor
from risk.holdings import Grant
from risk.limits import Limits
from risk.messages import (
    KillScope,
    KillSwitch,
    KillSwitchChanged,
    RegisterExclusiveGrant,
    RiskConfigured,
    SetAssetLimit,
    SetCreditLine,
    SetFxRates,
    SetGuarantor,
    SetHolding,
    SetLimits,
    SetMargin,
    SetPermissions,
    SetRiskParams,
    Settle,
)

if TYPE_CHECKING:
    from risk.engine import RiskEngine

INVALID = Reason.INVALID_RISK_SETTING
Handler = Callable[[Any, int, int, list], None]
Setting = Callable[[Any, int, int, list], Reason]
"""A risk command's own handler: it returns its outcome as a reason code, which
:meth:`_Admin.wrap` reports."""


def handlers(risk: RiskEngine) -> dict[type, Handler]:
    """The risk command handlers bound to one engine, for ``Core``'s dispatch table."""
    admin = _Admin(risk)
    table: dict[type, Setting] = {
        SetRiskParams: admin.set_params,
        SetGuarantor: admin.set_guarantor,
        SetCreditLine: admin.set_credit_line,
        SetLimits: admin.set_limits,
        SetPermissions: admin.set_permissions,
        SetHolding: admin.set_holding,
        SetAssetLimit: admin.set_asset_limit,
        RegisterExclusiveGrant: admin.register_grant,
        SetFxRates: admin.set_fx_rates,
        SetMargin: admin.set_margin,
        Settle: admin.settle,
        KillSwitch: admin.kill_switch,
    }
    return {kind: admin.wrap(fn) for kind, fn in table.items()}


class _Admin:
    def __init__(self, risk: RiskEngine) -> None:
        self.risk = risk
        self.ledger = risk.ledger

    def wrap(self, fn: Setting) -> Handler:
        """Stamp alerts with the command, report the outcome, append the alerts it raised."""
        alerts = self.risk.alerts

        def handle(cmd: Any, seq: int, ts: int, out: list) -> None:
            reason = fn(cmd, seq, ts, out)
            if reason:
                out.append(
                    OrderRejected(
                        seq,
                        ts,
                        getattr(cmd, "instrument", ""),
                        0,
                        getattr(cmd, "participant", ""),
                        Request.ADMIN,
                        reason,
                    )
                )
            elif type(cmd) is not KillSwitch:
                out.append(RiskConfigured(seq, ts, cmd))
            alerts.flush(out, seq, ts)

        return handle

    # -- exchange-wide ------------------------------------------------------------------

    def set_params(self, cmd: SetRiskParams, seq: int, ts: int, out: list) -> Reason:
        if (
            not 0 <= cmd.fee_bp <= 10_000
            or not 0 <= cmd.fx_haircut_bp <= 10_000
            or cmd.fx_max_age_ns < 0
            or not 0 < cmd.alert_bp <= 10_000
        ):
            return INVALID
        risk = self.risk
        fee_changed = cmd.fee_bp != risk.fee_bp
        risk.fee_bp = cmd.fee_bp
        risk.fx.haircut_bp = cmd.fx_haircut_bp
        risk.fx.max_age_ns = cmd.fx_max_age_ns
        risk.alerts.alert_bp = cmd.alert_bp
        if fee_changed:
            for order_id in sorted(risk.orders):
                record = risk.orders[order_id]
                risk.revalue(record, record.leaves)
        self.ledger.rebuild()
        return Reason.NONE

    def set_fx_rates(self, cmd: SetFxRates, seq: int, ts: int, out: list) -> Reason:
        fx = self.risk.fx
        if fx.problems(cmd.rates, fx.rates):
            return INVALID
        fx.set(cmd.rates, ts)
        self.ledger.rebuild()
        return Reason.NONE

    def set_asset_limit(self, cmd: SetAssetLimit, seq: int, ts: int, out: list) -> Reason:
        if cmd.participant_limit < 0 or cmd.market_limit < 0:
            return INVALID
        assets = self.ledger.assets
        assets.set(cmd)
        for terms in self.risk.terms.values():
            terms.limited = assets.limited(terms.instrument.ip_asset_ids)
        self.ledger.rebuild()
        return Reason.NONE

    def register_grant(self, cmd: RegisterExclusiveGrant, seq: int, ts: int, out: list) -> Reason:
        if not cmd.territory or cmd.term_end < cmd.term_start or not cmd.holder:
            return INVALID
        self.risk.grants.add(
            Grant(
                cmd.asset_id,
                cmd.holder,
                cmd.territory,
                cmd.field_of_use,
                cmd.term_start,
                cmd.term_end,
            )
        )
        return Reason.NONE

    # -- guarantors and lines -----------------------------------------------------------

    def set_guarantor(self, cmd: SetGuarantor, seq: int, ts: int, out: list) -> Reason:
        ledger = self.ledger
        guarantor = ledger.guarantors.get(cmd.guarantor)
        if cmd.currency not in CURRENCY_MINOR_UNITS or cmd.capacity < 0 or not cmd.guarantor:
            return INVALID
        if guarantor is None:
            guarantor = ledger.guarantors[cmd.guarantor] = Guarantor(cmd.guarantor)
        elif guarantor.lines and guarantor.currency != cmd.currency:
            return INVALID  # the lines it backs are in the old currency
        guarantor.name, guarantor.kind = cmd.name, cmd.kind
        guarantor.currency, guarantor.capacity = cmd.currency, cmd.capacity
        guarantor.capacity_bp = cmd.capacity * 10_000
        ledger.rebuild()
        return Reason.NONE

    def set_credit_line(self, cmd: SetCreditLine, seq: int, ts: int, out: list) -> Reason:
        ledger = self.ledger
        names = [b.guarantor for b in cmd.backers]
        if any(name not in ledger.guarantors for name in names):
            return Reason.UNKNOWN_GUARANTOR
        if (
            cmd.currency not in CURRENCY_MINOR_UNITS
            or cmd.limit < 0
            or (cmd.limit and not cmd.backers)  # only a zero line (a seller's) has no backer
            or len(set(names)) != len(names)
            or any(b.share_bp <= 0 for b in cmd.backers)
            or (cmd.backers and sum(b.share_bp for b in cmd.backers) != 10_000)
            or any(ledger.guarantors[n].currency != cmd.currency for n in names)
        ):
            return INVALID
        account = ledger.account(cmd.participant)
        in_use = any(pos.usage for pos in account.positions.values())
        if account.currency != cmd.currency and in_use:
            return INVALID  # usage is counted in the old currency until it is released
        for guarantor, _ in account.backers:
            del guarantor.lines[cmd.participant]
        account.currency = cmd.currency
        account.limit = cmd.limit
        account.backers = tuple((ledger.guarantors[b.guarantor], b.share_bp) for b in cmd.backers)
        for guarantor, share in account.backers:
            guarantor.lines[cmd.participant] = (account, share)
        self.risk.refresh_kills()
        ledger.rebuild()
        return Reason.NONE

    # -- participants -------------------------------------------------------------------

    def set_limits(self, cmd: SetLimits, seq: int, ts: int, out: list) -> Reason:
        values = (cmd.max_order_qty, cmd.max_order_notional, cmd.collar_bp, cmd.position_limit)
        if min(values) < 0:
            return INVALID
        self.ledger.account(cmd.participant).limits = Limits(cmd)
        return Reason.NONE

    def set_permissions(self, cmd: SetPermissions, seq: int, ts: int, out: list) -> Reason:
        self.ledger.account(cmd.participant).kinds = frozenset(cmd.kinds)
        return Reason.NONE

    def set_holding(self, cmd: SetHolding, seq: int, ts: int, out: list) -> Reason:
        book = self.risk.core.books.get(cmd.instrument)
        if book is None:
            return Reason.UNKNOWN_INSTRUMENT
        terms = self.risk.terms_of(book)
        if not terms.cash or cmd.qty < 0:
            return INVALID
        account = self.ledger.account(cmd.participant)
        pos = self.ledger.position(account, terms)
        if cmd.qty < pos.working_sell:
            return Reason.HOLDING_ENCUMBERED
        pos.qty = cmd.qty
        return Reason.NONE

    def settle(self, cmd: Settle, seq: int, ts: int, out: list) -> Reason:
        account = self.ledger.accounts.get(cmd.participant)
        pos = None if account is None else account.positions.get(cmd.instrument)
        if pos is None:
            return Reason.SETTLEMENT_EXCEEDS_OBLIGATION
        net, amount = pos.net, cmd.amount
        if not amount or not (0 < amount <= net or net <= amount < 0):
            return Reason.SETTLEMENT_EXCEEDS_OBLIGATION
        pos.net = net - amount
        self.ledger.charge(pos, pos.expected_usage() - pos.usage)
        return Reason.NONE

    # -- derivatives --------------------------------------------------------------------

    def set_margin(self, cmd: SetMargin, seq: int, ts: int, out: list) -> Reason:
        book = self.risk.core.books.get(cmd.instrument)
        if book is None:
            return Reason.UNKNOWN_INSTRUMENT
        terms = self.risk.terms_of(book)
        if terms.cash or cmd.initial_margin <= 0:
            return INVALID
        terms.margin = cmd.initial_margin
        risk = self.risk
        for order_id in sorted(book.orders):
            record = risk.orders[order_id]
            risk.revalue(record, record.leaves)
        for pos in terms.positions:
            self.ledger.charge(pos, pos.expected_usage() - pos.usage)
        return Reason.NONE

    # -- kill switch --------------------------------------------------------------------

    def kill_switch(self, cmd: KillSwitch, seq: int, ts: int, out: list) -> Reason:
        risk = self.risk
        if cmd.scope == KillScope.GUARANTOR:
            guarantor = self.ledger.guarantors.get(cmd.target)
            if guarantor is None:
                return Reason.UNKNOWN_GUARANTOR
            covered = set(guarantor.participants)
            switches = risk.killed_guarantors
        else:
            covered = {cmd.target}
            switches = risk.killed_participants
            self.ledger.account(cmd.target)
        if cmd.engaged:
            switches.add(cmd.target)
        else:
            switches.discard(cmd.target)
        risk.refresh_kills()
        out.append(
            KillSwitchChanged(seq, ts, cmd.scope, cmd.target, cmd.engaged, tuple(sorted(covered)))
        )
        if cmd.engaged:
            risk.core.cancel_orders_of(covered, Reason.KILLED, seq, ts, out)
        return Reason.NONE
