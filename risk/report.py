"""What an operator reads of the credit state: each participant's line and each guarantor.

Public types: :class:`LineView`, :class:`GuarantorView`; functions :func:`credit_views`,
:func:`line_view`.

The admin port answers ``CreditQuery`` with these (``ipx admin credit``), between commands,
so a risk desk sees how much of every line and guarantee is used without waiting for an
alert: alerts say only when a usage crosses the warning or the limit. A participant asks for
its own line on the order port (``CreditStatus``).
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
