"""What every ``ipx`` subcommand shares: where the keys are, how a message is printed, and
the credit reports as tables (the operators' ``ipx admin credit`` and the demo's close).

Public functions: :func:`key_dir`, :func:`named`, :func:`show`, :func:`amount`,
:func:`credit_table`, :func:`positions_table`.
"""

from __future__ import annotations

import argparse
import json
from enum import IntEnum
from pathlib import Path

import msgspec

from engine.instruments import CURRENCY_MINOR_UNITS
from marketdata.ticker import aligned
from risk.report import GuarantorView, LineView, PositionView


def key_dir(args: argparse.Namespace) -> Path:
    """The key directory a command was given, else the per-user demo key directory."""
    from gateway.config import default_key_dir

    return Path(args.key_dir) if args.key_dir else default_key_dir()


def named(value: object) -> object:
    """A message as plain JSON values with names: each struct (the events inside an admin
    ack too, which travel as bare arrays) an object with its type, each enum its name."""
    if isinstance(value, msgspec.Struct):
        fields = msgspec.structs.asdict(value)
        return {"type": type(value).__name__, **{k: named(v) for k, v in fields.items()}}
    if isinstance(value, IntEnum):
        return value.name
    if isinstance(value, list | tuple):
        return [named(v) for v in value]
    return msgspec.to_builtins(value)


def show(msg: msgspec.Struct) -> str:
    """One response as a JSON line, enums by name, so it reads and greps well."""
    return json.dumps(named(msg))


def amount(minor: int, currency: str) -> str:
    """Minor units as a major-unit amount with thousands separators, exactly (integers,
    no float).

    >>> amount(1_255_000, "CNY"), amount(-9_600, "HKD"), amount(1_500, "JPY")
    ('12,550.00', '-96.00', '1,500')
    """
    digits = CURRENCY_MINOR_UNITS.get(currency, 2)
    whole, fraction = divmod(abs(minor), 10**digits)
    sign = "-" if minor < 0 else ""
    return f"{sign}{whole:,}.{fraction:0{digits}d}" if digits else f"{sign}{whole:,}"


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

    rows = [("participant", "ccy", "limit", "used", "used%", "killed", "backers")]
    rows += [
        (v.participant, v.currency, amount(v.limit, v.currency), amount(v.used, v.currency),
         share(v.used, v.limit), "yes" if v.killed else "no",
         ", ".join(f"{g} {bp / 100:g}%" for g, bp in v.backers) or "-")
        for v in lines
    ]
    rows.append(("guarantor", "ccy", "capacity", "used", "used%", "kind", "lines"))
    rows += [
        (g.guarantor, g.currency, amount(g.capacity, g.currency), amount(g.used, g.currency),
         share(g.used, g.capacity), g.kind, ", ".join(g.participants) or "-")
        for g in guarantors
    ]
    return [f"credit after seq {seq}", *aligned(rows, right={2, 3, 4})]


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
        (v.instrument, v.currency, str(v.qty), amount(v.net, v.currency),
         amount(v.reserved, v.currency), f"{v.working_buy}/{v.working_sell}")
        for v in positions
    ]
    return aligned(rows, right={2, 3, 4})
