"""What an operator reads of the credit state: each participant's line and each guarantor.

Public types: :class:`LineView`, :class:`GuarantorView`, :class:`PositionView`; functions
:func:`credit_views`, :func:`line_view`, :func:`positions_view`. As text:
:func:`gateway.cli_output.credit_table` and :func:`~gateway.cli_output.positions_table`.

The admin port answers ``CreditQuery`` with these (``ipx admin credit``), between commands,
so a risk desk sees how much of every line and guarantee is used without waiting for an
alert: alerts say only when a usage crosses the warning or the limit. A participant asks for
its own line on the order port (``CreditStatus``). A participant's positions say what its
line's usage is made of and what it owes or is owed until the operator records settlement
(``ipx admin settle``).
"""

from __future__ import annotations

import msgspec

from risk.credit import Account, Guarantor
from risk.engine import RiskEngine

FULL_BP = 10_000


class LineView(msgspec.Struct, array_like=True, frozen=True):
    """One participant's credit line; amounts in minor units of the line's currency."""

    participant: str
    currency: str
    limit: int
    used: int
    """Reserved for working orders, plus unsettled payables and margin of positions."""
    used_bp: int
    """``used`` as ten-thousandths of ``limit`` (rounded down; 0 for a zero limit)."""
    killed: bool
    backers: list[tuple[str, int]]
    """(guarantor, share of the line's usage it carries in ten-thousandths)."""


class GuarantorView(msgspec.Struct, array_like=True, frozen=True):
    """One guarantor; ``used`` is its share of its lines' usage, rounded up."""

    guarantor: str
    name: str
    kind: str
    currency: str
    capacity: int
    used: int
    participants: list[str]


class PositionView(msgspec.Struct, array_like=True, frozen=True):
    """One participant in one instrument; amounts in minor units of the instrument's
    currency."""

    instrument: str
    currency: str
    qty: int
    """Units held (fully paid rights) or signed contracts (derivatives)."""
    net: int
    """Unsettled cash of its fills: payable when positive, receivable when negative."""
    reserved: int
    """Held for its working orders."""
    working_buy: int
    working_sell: int


def positions_view(risk: RiskEngine, participant: str) -> list[PositionView] | None:
    """``participant``'s positions by instrument; None when it has no risk account."""
    account = risk.accounts.get(participant)
    if account is None:
        return None
    return [
        PositionView(
            instrument, pos.terms.currency, pos.qty, pos.net, pos.reserved, pos.working_buy,
            pos.working_sell,
        )
        for instrument, pos in sorted(account.positions.items())
    ]


def credit_views(
    risk: RiskEngine, participant: str = ""
) -> tuple[list[LineView], list[GuarantorView]] | None:
    """Every line and guarantor, by name; with ``participant``, its line and its backers
    only. None when ``participant`` has no risk account."""
    accounts = risk.accounts
    guarantors = risk.ledger.guarantors
    if participant:
        account = accounts.get(participant)
        if account is None:
            return None
        names = sorted(g.guarantor for g, _ in account.backers)
        return [_line(account)], [_guarantor(guarantors[name]) for name in names]
    return (
        [_line(accounts[name]) for name in sorted(accounts)],
        [_guarantor(guarantors[name]) for name in sorted(guarantors)],
    )


def line_view(risk: RiskEngine, participant: str) -> LineView | None:
    """``participant``'s own line; None when it has no risk account."""
    account = risk.accounts.get(participant)
    return _line(account) if account is not None else None


def _line(account: Account) -> LineView:
    limit, used = account.limit, account.used
    return LineView(
        account.participant,
        account.currency,
        limit,
        used,
        used * FULL_BP // limit if limit else 0,
        account.killed,
        [(g.guarantor, share) for g, share in account.backers],
    )


def _guarantor(guarantor: Guarantor) -> GuarantorView:
    return GuarantorView(
        guarantor.guarantor,
        guarantor.name,
        str(guarantor.kind),
        guarantor.currency,
        guarantor.capacity,
        guarantor.used,
        guarantor.participants,
    )
