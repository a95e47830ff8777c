"""Reservation arithmetic: what an open order holds against credit, in its instrument's currency.

Public types: :class:`Terms` (an instrument's risk terms), :class:`OrderRecord`; functions
:func:`unit_of`, :func:`need_of`, :func:`margin_part`.

The rules, per unit of open quantity (``leaves``):

- a buy of a fully paid right (licence units, participations, notes, lots) reserves its limit
  price, a market or stop-market buy the band's upper edge (the worst price it can reach), and
  the fee on that notional;
- a sell of such a right reserves no credit (it encumbers the holding instead);
- a future reserves its initial margin per contract on either side;
- an option buy reserves its premium (price x multiplier) and fee, an option sell (writing)
  its initial margin.

``need_of`` rounds the fee up, on the whole open quantity, so reservation = need_of(leaves)
exactly, and a fill releases need_of(before) - need_of(after).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from mypy_extensions import mypyc_attr

from engine.book import Book
from engine.instruments import DERIVATIVE_KINDS, InstrumentKind, RightType

if TYPE_CHECKING:
    from risk.credit import Position

SINGLE_GRANT_RIGHTS: Final = frozenset(
    {RightType.ASSIGNMENT, RightType.EXCLUSIVE_LICENCE, RightType.SOLE_LICENCE}
)
"""Rights that exist once: the issuer can sell at most one lot of them."""

LICENCE_RIGHTS: Final = frozenset(
    {
        RightType.EXCLUSIVE_LICENCE,
        RightType.SOLE_LICENCE,
        RightType.NON_EXCLUSIVE_LICENCE,
        RightType.STANDARDIZED_LICENCE_UNIT,
    }
)
"""Rights whose grant an earlier exclusive grant over the same scope forbids."""

EXCLUSIVE_RIGHTS: Final = frozenset({RightType.EXCLUSIVE_LICENCE, RightType.SOLE_LICENCE})
"""Rights whose sale records an exclusive grant for the buyer."""


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class Terms:
    """An instrument's risk terms, made once per instrument (the hot path reads attributes).

    ``margin`` is the initial margin per contract (derivatives; 0 until set), ``limited`` the
    instrument's assets that carry a concentration limit, ``issued`` what the issuer has sold,
    ``positions`` every participant position in it.
    """

    __slots__ = (
        "book",
        "cash",
        "currency",
        "exclusive",
        "future",
        "instrument",
        "instrument_id",
        "issued",
        "issuer",
        "licence",
        "limited",
        "margin",
        "multiplier",
        "option",
        "positions",
        "single_grant",
    )

    def __init__(self, book: Book) -> None:
        instrument = book.instrument
        self.book = book
        self.instrument = instrument
        self.instrument_id = instrument.instrument_id
        self.currency = instrument.currency
        self.issuer = instrument.issuer
        derivative = instrument.derivative
        self.multiplier = derivative.multiplier if derivative else 1
        self.cash = instrument.kind not in DERIVATIVE_KINDS
        self.future = instrument.kind is InstrumentKind.ROYALTY_FUTURE
        self.option = instrument.kind is InstrumentKind.LICENCE_OPTION
        self.single_grant = self.cash and instrument.right in SINGLE_GRANT_RIGHTS
        self.licence = self.cash and instrument.right in LICENCE_RIGHTS
        self.exclusive = self.cash and instrument.right in EXCLUSIVE_RIGHTS
        self.margin = 0
        self.issued = 0
        self.limited: tuple[tuple[str, int, int], ...] = ()
        self.positions: list = []


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class OrderRecord:
    """What risk keeps of one open order: its position, unit reservation and open quantity."""

    __slots__ = ("buy", "fee_bp", "leaves", "need", "order_id", "pos", "price", "unit")

    def __init__(
        self,
        order_id: int,
        pos: Position,
        buy: bool,
        price: int,
        unit: int,
        fee_bp: int,
        leaves: int,
        need: int,
    ) -> None:
        self.order_id = order_id
        self.pos = pos
        self.buy = buy
        self.price = price
        """The order's limit; 0 for a market or stop-market order (valued at the band edge)."""
        self.unit = unit
        self.fee_bp = fee_bp
        self.leaves = leaves
        self.need = need

    def state(self) -> tuple:
        return (self.order_id, self.price, self.unit, self.fee_bp, self.leaves, self.need)


def unit_of(terms: Terms, buy: bool, price: int, fee_bp: int) -> tuple[int, int]:
    """The reservation per open unit and the fee rate on it, for an order now.

    ``price`` 0 is a market or stop-market order: a buy is valued at the band's upper edge.
    """
    if terms.cash or (terms.option and buy):
        if not buy:
            return 0, 0
        return (price or terms.book.band_high) * terms.multiplier, fee_bp
    return terms.margin, 0


def need_of(unit: int, fee_bp: int, leaves: int) -> int:
    """Reservation for ``leaves`` open units: notional plus the fee on it, rounded up.

    >>> need_of(125_000, 30, 10), need_of(125_000, 30, 0), need_of(333, 0, 3)
    (1253750, 0, 999)
    """
    notional = unit * leaves
    if fee_bp:
        return notional + (notional * fee_bp + 9_999) // 10_000
    return notional


def margin_part(terms: Terms, qty: int) -> int:
    """Margin a position of ``qty`` contracts holds: either side of a future, short options."""
    if terms.future:
        return abs(qty) * terms.margin
    if terms.option and qty < 0:
        return -qty * terms.margin
    return 0


def terms_state(terms: Terms) -> tuple:
    return (terms.instrument_id, terms.margin, terms.issued)
