"""The risk engine's invariants, checked against the books: slow, for tests and audits.

Public: :func:`check_engine` and the error it raises, :class:`RiskInvariantError` (defined
here, outside the compiled modules: mypyc compiles no subclass of a built-in exception). The
check recomputes from scratch what the engine keeps incrementally: every open order's need
from its book order, every position's reservation and working quantities from its orders,
every line's, guarantor's and asset's usage from the positions, and asserts that nothing is
negative; and that every line and guarantor is at the level of its usage, and the lines'
guards keep every guarantor inside its band and capacity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.book import InvariantError
from engine.messages import Side
from risk.alerts import Watched
from risk.reservations import need_of, unit_of

if TYPE_CHECKING:
    from risk.engine import RiskEngine


class RiskInvariantError(InvariantError):
    """Risk state disagrees with the books or with itself: a bug, never a client error."""


def check_engine(risk: RiskEngine) -> None:
    """Raise :class:`RiskInvariantError` at the first thing kept incrementally that differs
    from its recomputation."""
    sums: dict[object, list[int]] = {}
    seen = 0
    for instrument_id in sorted(risk.core.books):
        book = risk.core.books[instrument_id]
        for order_id, order in book.orders.items():
            record = risk.orders.get(order_id)
            if record is None:
                raise RiskInvariantError(f"order {order_id}: live in the book, unknown to risk")
            pos = record.pos
            if (
                pos.terms.book is not book
                or pos.account.participant != order.participant
                or record.buy != (order.side == Side.BUY)
                or record.price != order.price
                or record.leaves != order.leaves
            ):
                raise RiskInvariantError(f"order {order_id}: risk record disagrees with the book")
            unit, fee_bp = unit_of(pos.terms, record.buy, record.price, risk.fee_bp)
            if (record.unit, record.fee_bp) != (unit, fee_bp) or record.need != need_of(
                unit, fee_bp, record.leaves
            ):
                raise RiskInvariantError(
                    f"order {order_id}: reserves {record.need}, needs another amount"
                )
            total = sums.setdefault(pos, [0, 0, 0])
            total[0] += record.need
            total[1 if record.buy else 2] += record.leaves
            seen += 1
    if seen != len(risk.orders):
        raise RiskInvariantError(f"risk keeps {len(risk.orders)} orders, the books {seen}")
    for participant, account in risk.accounts.items():
        for pos in account.positions.values():
            reserved, working_buy, working_sell = sums.get(pos, (0, 0, 0))
            if (pos.reserved, pos.working_buy, pos.working_sell) != (
                reserved,
                working_buy,
                working_sell,
            ):
                raise RiskInvariantError(
                    f"{participant} {pos.terms.instrument_id}: reservation drift"
                )
            if pos.usage != pos.expected_usage():
                raise RiskInvariantError(f"{participant} {pos.terms.instrument_id}: usage drift")
            if min(pos.reserved, pos.usage) < 0 or (pos.terms.cash and pos.qty < 0):
                raise RiskInvariantError(f"{participant} {pos.terms.instrument_id}: negative")
            issuer = participant == pos.terms.issuer
            if pos.terms.cash and not issuer and pos.working_sell > pos.qty:
                raise RiskInvariantError(
                    f"{participant} {pos.terms.instrument_id}: sells exceed the holding"
                )
    _check_totals(risk)
    _check_guards(risk)


def _check_totals(risk: RiskEngine) -> None:
    ledger = risk.ledger
    line, foreign, converted, backed, by_participant, market, cny = ledger.totals()
    for participant, account in ledger.accounts.items():
        if account.used != line[participant] or account.used < 0:
            raise RiskInvariantError(
                f"{participant}: line usage {account.used} != {line[participant]}"
            )
        if _nonzero(account.foreign) != _nonzero(foreign[participant]) or _nonzero(
            account.converted
        ) != _nonzero(converted[participant]):
            raise RiskInvariantError(f"{participant}: foreign-currency usage drift")
    for name, guarantor in ledger.guarantors.items():
        if guarantor.used_bp != backed[name] or guarantor.used_bp < 0:
            raise RiskInvariantError(
                f"guarantor {name}: usage {guarantor.used_bp} != {backed[name]} (bp)"
            )
    assets = ledger.assets
    if _nonzero(assets.by_participant) != _nonzero(by_participant) or _nonzero(
        assets.market
    ) != _nonzero(market):
        raise RiskInvariantError("asset concentration usage drift")
    if any(pos.cny != value or value < 0 for pos, value in cny):
        raise RiskInvariantError("asset usage of a position drifted")


def _check_guards(risk: RiskEngine) -> None:
    """Levels match usage, and were every line of a guarantor at either end of the range it
    may move in unsettled, the guarantor would still be inside its band, and within its
    capacity unless it is past it already (then no line of it may rise unsettled)."""
    ledger = risk.ledger
    for participant, account in ledger.accounts.items():
        if account.level != _level(account, account.used):
            raise RiskInvariantError(
                f"{participant}: line level {account.level} does not match its usage"
            )
    for name, g in ledger.guarantors.items():
        used_bp = g.used_bp
        if g.level != _level(g, used_bp):
            raise RiskInvariantError(f"guarantor {name}: level {g.level} does not match its usage")
        if g.eager and any(a.used != a.base for a, _ in g.lines.values()):
            raise RiskInvariantError(f"guarantor {name}: carried eagerly with moves not folded in")
        low = high = g.settled_bp
        for account, share in g.lines.values():
            floor, top = account.bounds[name]
            if account.used >= account.upper:  # it cannot rise without settling
                top = account.used
            low += share * (floor - account.base)
            high += share * (top - account.base)
        over = used_bp > g.capacity_bp
        if low < g.low or high >= g.high or (high > g.capacity_bp and not over):
            raise RiskInvariantError(
                f"guarantor {name}: its lines' guards reach past its band or capacity"
            )


def _level(watched: Watched, used: int) -> int:
    return (used >= watched.warn_at) + (used >= watched.full_at)


def _nonzero(values: dict) -> dict:
    return {key: value for key, value in values.items() if value}
