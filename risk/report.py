"""What an operator reads of the credit state: each participant's line and each guarantor.

Public types: :class:`LineView`, :class:`GuarantorView`, :class:`PositionView`; functions
:func:`credit_views`, :func:`line_view`, :func:`positions_view`, :func:`credit_table`,
:func:`positions_table`.

The admin port answers ``CreditQuery`` with these (``ipx admin credit``), between commands,
so a risk desk sees how much of every line and guarantee is used without waiting for an
alert: alerts say only when a usage crosses the warning or the limit. A participant asks for
its own line on the order port (``CreditStatus``). A participant's positions say what its
line's usage is made of and what it owes or is owed until the operator records settlement
(``ipx admin settle``).
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

    def share(used: int, of: int) -> str:
        return f"{used * 100 / of:.2f}%" if of else "-"

    line_rows = [
        (v.participant, v.currency, _money(v.limit, v.currency), _money(v.used, v.currency),
         share(v.used, v.limit), "yes" if v.killed else "no",
         ", ".join(f"{g} {bp / 100:g}%" for g, bp in v.backers) or "-")
        for v in lines
    ]
    guarantor_rows = [
        (g.guarantor, g.currency, _money(g.capacity, g.currency), _money(g.used, g.currency),
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


def positions_table(positions: list[PositionView]) -> list[str]:
    """Positions as aligned text, cash in major units: what is owed (a negative payable is
    owed to the participant), and what is held.

    >>> rows = [PositionView("ULR-A", "CNY", 10, 1_255_000, 0, 0, 0),
    ...         PositionView("RPU-B", "HKD", -2, -9_600, 4_800, 1, 0)]
    >>> print("\\n".join(positions_table(rows)))
    instrument  ccy  qty  net payable  reserved  working buy/sell
    ULR-A       CNY   10    12,550.00      0.00  0/0
    RPU-B       HKD   -2       -96.00     48.00  1/0
    """
    rows = [("instrument", "ccy", "qty", "net payable", "reserved", "working buy/sell")]
    rows += [
        (v.instrument, v.currency, str(v.qty), _money(v.net, v.currency),
         _money(v.reserved, v.currency), f"{v.working_buy}/{v.working_sell}")
        for v in positions
    ]
    widths = [max(len(row[col]) for row in rows) for col in range(5)]
    return [
        "  ".join([
            row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]),
            row[3].rjust(widths[3]), row[4].rjust(widths[4]), row[5],
        ])
        for row in rows
    ]


def _money(amount: int, currency: str) -> str:
    """Minor units as a major-unit amount with separators, exactly (integers, no float)."""
    digits = CURRENCY_MINOR_UNITS.get(currency, 2)
    whole, fraction = divmod(abs(amount), 10**digits)
    sign = "-" if amount < 0 else ""
    return f"{sign}{whole:,}.{fraction:0{digits}d}" if digits else f"{sign}{whole:,}"
