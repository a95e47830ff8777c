"""What an operator reads of the credit state: each participant's line and each guarantor.

Public types: :class:`LineView`, :class:`GuarantorView`; functions :func:`credit_views`,
:func:`line_view`, :func:`credit_table`.

The admin port answers ``CreditQuery`` with these (``ipx admin credit``), between commands,
so a risk desk sees how much of every line and guarantee is used without waiting for an
alert: alerts say only when a usage crosses the warning or the limit. A participant asks for
its own line on the order port (``CreditStatus``).
"""

from __future__ import annotations

import msgspec

from engine.instruments import CURRENCY_MINOR_UNITS
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


def credit_table(seq: int, lines: list[LineView], guarantors: list[GuarantorView]) -> list[str]:
    """Lines and guarantors as aligned text after command ``seq``, amounts in major units.

    >>> line = LineView("BRK-A", "CNY", 500_000_00, 125_500_00, 2510, False, [("BANK", 6000)])
    >>> bank = GuarantorView("BANK", "Bank of Hainan", "bank", "CNY", 900_000_00, 75_300_00,
    ...                      ["BRK-A"])
    >>> print("\\n".join(credit_table(42, [line], [bank])))
    credit after seq 42
    participant  ccy       limit        used   used%  killed  backers
    BRK-A        CNY  500,000.00  125,500.00  25.10%  no      BANK 60%
    guarantor    ccy    capacity        used   used%  kind    lines
    BANK         CNY  900,000.00   75,300.00   8.37%  bank    BRK-A
    """

    def money(amount: int, currency: str) -> str:  # exact: integer minor units, no float
        digits = CURRENCY_MINOR_UNITS.get(currency, 2)
        whole, fraction = divmod(amount, 10**digits)
        return f"{whole:,}.{fraction:0{digits}d}" if digits else f"{whole:,}"

    def share(used: int, of: int) -> str:
        return f"{used * 100 / of:.2f}%" if of else "-"

    line_rows = [
        (v.participant, v.currency, money(v.limit, v.currency), money(v.used, v.currency),
         share(v.used, v.limit), "yes" if v.killed else "no",
         ", ".join(f"{g} {bp / 100:g}%" for g, bp in v.backers) or "-")
        for v in lines
    ]
    guarantor_rows = [
        (g.guarantor, g.currency, money(g.capacity, g.currency), money(g.used, g.currency),
         share(g.used, g.capacity), g.kind, ", ".join(g.participants) or "-")
        for g in guarantors
    ]
    heads = [
        ("participant", "ccy", "limit", "used", "used%", "killed", "backers"),
        ("guarantor", "ccy", "capacity", "used", "used%", "kind", "lines"),
    ]
    every = heads + line_rows + guarantor_rows
    widths = [max(len(row[col]) for row in every) for col in range(6)]

    def row(values: tuple) -> str:
        name, ccy, total, used, pct, flag, names = values
        cells = [
            name.ljust(widths[0]), ccy.ljust(widths[1]), total.rjust(widths[2]),
            used.rjust(widths[3]), pct.rjust(widths[4]), flag.ljust(widths[5]), names,
        ]
        return "  ".join(cells)

    return [
        f"credit after seq {seq}",
        row(heads[0]), *map(row, line_rows), row(heads[1]), *map(row, guarantor_rows),
    ]
