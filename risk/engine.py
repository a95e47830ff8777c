"""The risk engine the core consults: pre-trade checks before the match, the ledger after it.

Public type: :class:`RiskEngine` (implements ``engine.core.RiskControls``).

Risk decides before the match and never vetoes after it: an order is checked, in this order,
for NOT_PERMITTED (``check_permission``, before the engine's own validation), then MAX_QTY,
FX_RATE_STALE / FX_RATE_MISSING (cross-currency orders, where the first conversion is needed),
MAX_NOTIONAL, PRICE_COLLAR, NO_HOLDING, EXCLUSIVITY_CONFLICT, POSITION_LIMIT, MARGIN_NOT_SET,
CREDIT_LIMIT, GUARANTOR_LIMIT, ASSET_CONCENTRATION and KILLED. An accepted order reserves its
need (see :mod:`risk.reservations`); the core then feeds every event of the command back in
order: a trade turns the reservation into exposure at the fill price and releases the price
improvement, a done order releases what is left, an amend re-reserves. Alerts the command
causes are appended to its events, so they are journaled and replayed like everything else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, cast

from mypy_extensions import mypyc_attr

from engine.book import Book, Order
from engine.codes import Reason
from engine.messages import (
    AmendOrder,
    BookLevelChanged,
    NewOrder,
    OrderAccepted,
    OrderAmended,
    OrderDone,
    ReferencePriceChanged,
    Side,
    Trade,
)
from risk import admin
from risk.alerts import Alerts
from risk.credit import Account, Ledger, Position
from risk.fx import FxTable
from risk.holdings import GrantRegistry, sell_reason
from risk.invariants import check_engine
from risk.limits import NO_LIMIT, position_reason
from risk.messages import BASE_CURRENCY, GrantTransferred
from risk.reservations import OrderRecord, Terms, need_of, terms_state, unit_of

# Final: compiled, these are C constants; plain module names would be dict lookups per use
OK: Final = Reason.NONE
BUY: Final = Side.BUY
NOT_PERMITTED: Final = Reason.NOT_PERMITTED
LEVEL_CHANGED: Final = BookLevelChanged
ACCEPTED: Final = OrderAccepted
DONE: Final = OrderDone
TRADE: Final = Trade
AMENDED: Final = OrderAmended
REFERENCE_CHANGED: Final = ReferencePriceChanged


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)
class RiskEngine:
    """Credit, limits, holdings and FX for one core; all state changes come from commands."""

    def __init__(self) -> None:
        self.fx = FxTable()
        self.alerts = Alerts()
        self.ledger = Ledger(self.fx, self.alerts)
        self.accounts = self.ledger.accounts
        self.grants = GrantRegistry()
        self.terms: dict[str, Terms] = {}
        self.orders: dict[int, OrderRecord] = {}
        self.fee_bp = 0
        self.killed_participants: set[str] = set()
        self.killed_guarantors: set[str] = set()
        self.core: Any = None
        self._alerted = self.alerts.pending
        """The alerts waiting to be flushed (the same list, never replaced), read per command;
        no bound methods are kept, so the engine pickles into snapshots."""
        self._pending: OrderRecord | None = None
        """The record of the order ``check_order`` last passed, filed when it is accepted."""
        self._account = Account("")
        """The account ``check_permission`` last passed."""
        self._unfiled: Position | None = None
        """A position made for an order that opens it, filed in the ledger once the order is
        accepted, so that a rejected order leaves no trace."""

    # -- the protocol -------------------------------------------------------------------

    def attach(self, core: Any) -> None:
        self.core = core

    def commands(self) -> dict[type, Callable[[Any, int, int, list], None]]:
        return admin.handlers(self)

    def check_permission(self, cmd: NewOrder, book: Book) -> Reason:
        account = self.accounts.get(cmd.participant)
        if account is None or book.instrument.kind not in account.kinds:
            return NOT_PERMITTED
        self._account = account  # check_order, asked next, starts from it
        return OK

    def check_order(self, cmd: NewOrder, book: Book, ts: int) -> Reason:
        account = self._account
        pos = self._position(account, book)
        terms = pos.terms
        limits = account.limits
        qty = cmd.qty
        if qty > limits.max_qty:
            return Reason.MAX_QTY
        cross = terms.currency != account.currency
        if cross:
            reason = self.fx.reason(terms.currency, account.currency, ts)
            if reason:
                return reason
        buy = cmd.side == BUY
        price = cmd.price
        value = qty * (price or (book.band_high if buy else book.band_low))  # market: band edge
        if limits.max_notional != NO_LIMIT:
            multiplier = terms.multiplier
            notional = value if multiplier == 1 else value * multiplier
            if cross:
                notional = self.fx.convert(notional, terms.currency, account.currency)
            if notional > limits.max_notional:
                return Reason.MAX_NOTIONAL
        if limits.collar_bp:  # Limits.collar_reason, inline for price and stop
            if book.reference_price != limits.reference:
                limits.centre(book.reference_price)
            if price and not limits.collar_low <= price <= limits.collar_high:
                return Reason.PRICE_COLLAR
            stop = cmd.stop_price
            if stop and not limits.collar_low <= stop <= limits.collar_high:
                return Reason.PRICE_COLLAR
        if terms.cash:
            if buy:
                unit, fee_bp = (price or book.band_high), self.fee_bp
                need = value
                if fee_bp:
                    need += (need * fee_bp + 9_999) // 10_000
            else:
                unit = fee_bp = need = 0
                held, working = pos.qty, pos.working_sell
                if account.participant == terms.issuer:
                    reason = sell_reason(terms, self.grants, terms.issuer, held, working, qty)
                    if reason:
                        return reason
                elif held - working < qty:
                    return Reason.NO_HOLDING
        else:
            reason = position_reason(
                limits.position_limit, pos.qty, pos.working_buy, pos.working_sell, buy, qty
            )
            if reason:
                return reason
            unit, fee_bp = unit_of(terms, buy, price, self.fee_bp)
            if not unit:
                return Reason.MARGIN_NOT_SET
            need = need_of(unit, fee_bp, qty)
        # within the line's ceiling a plain order passes the credit and guarantor limits
        if need and (cross or terms.limited or account.used + need > account.ceiling):
            reason = self._credit_reason(account, terms, pos, need, ts)
            if reason:
                return reason
        if account.killed:
            return Reason.KILLED
        # the record the OrderAccepted that follows will file (it carries this price and qty);
        # made here so the event feed need not re-read the command's values
        self._pending = OrderRecord(cmd.order_id, pos, buy, price, unit, fee_bp, qty, need)
        return OK

    def check_amend(self, order: Order, cmd: AmendOrder, book: Book, ts: int) -> Reason:
        record = self.orders[order.order_id]
        pos = record.pos
        account, terms = pos.account, pos.terms
        limits = account.limits
        if cmd.qty > limits.max_qty:
            return Reason.MAX_QTY
        if terms.currency != account.currency:
            reason = self.fx.reason(terms.currency, account.currency, ts)
            if reason:
                return reason
        buy = record.buy
        price = cmd.price
        notional = cmd.qty * (price or (book.band_high if buy else book.band_low))
        notional = self.fx.convert(notional * terms.multiplier, terms.currency, account.currency)
        if notional > limits.max_notional:
            return Reason.MAX_NOTIONAL
        collar = limits.collar_bp
        if collar and price != order.price and limits.collar_reason(book.reference_price, price):
            return Reason.PRICE_COLLAR
        leaves = cmd.qty - order.filled
        extra = leaves - record.leaves
        if extra > 0 and terms.cash and not buy:
            held, working = pos.qty, pos.working_sell
            reason = sell_reason(terms, self.grants, account.participant, held, working, extra)
            if reason:
                return reason
        if extra > 0 and not terms.cash:
            reason = position_reason(
                limits.position_limit, pos.qty, pos.working_buy, pos.working_sell, buy, extra
            )
            if reason:
                return reason
        unit, fee_bp = unit_of(terms, buy, price, self.fee_bp)
        more = need_of(unit, fee_bp, leaves) - record.need
        if more > 0:
            reason = self._credit_reason(account, terms, pos, more, ts)
            if reason:
                return reason
        return Reason.KILLED if account.killed else OK

    def _credit_reason(
        self, account: Account, terms: Terms, pos: Position, need: int, ts: int
    ) -> Reason:
        """CREDIT_LIMIT, GUARANTOR_LIMIT or ASSET_CONCENTRATION for ``need`` more usage."""
        currency = terms.currency
        change = self.ledger.line_change(account, currency, need)
        if account.used + change > account.ceiling:  # else within the line and its guarantors
            if account.used + change > account.limit:
                return Reason.CREDIT_LIMIT
            for guarantor, share in account.backers:
                if guarantor.used_bp + share * change > guarantor.capacity_bp:
                    return Reason.GUARANTOR_LIMIT
        limited = terms.limited
        if limited:
            if currency != BASE_CURRENCY:
                reason = self.fx.reason(currency, BASE_CURRENCY, ts)
                if reason:
                    return reason
            delta = self.fx.convert(pos.usage + need, currency, BASE_CURRENCY) - pos.cny
            return self.ledger.assets.reason(account.participant, limited, delta)
        return OK

    # -- after the match ----------------------------------------------------------------

    def on_events(self, events: list) -> None:
        """Follow the command's events. The hot path: one if-chain on the event type, book
        level changes (the most common, ignored) skipped first, accepts, dones and cash fills
        handled inline (no per-event method call), usage charged only when it changes.

        Compiled, an event's fields are read through a typed ``cast`` when they take part in
        arithmetic (unboxed once), but straight from the untyped ``event`` when they only key
        ``orders`` (kept boxed: unboxing and boxing again would cost more than the lookup)."""
        orders = self.orders
        ledger = self.ledger
        for event in events:
            kind = type(event)
            if kind is LEVEL_CHANGED:
                continue
            if kind is ACCEPTED:
                accepted = cast(OrderAccepted, event)
                record = self._pending
                if record is None or record.order_id != accepted.order_id:  # not checked
                    record = self._value(accepted)
                pos = record.pos
                if pos is self._unfiled:
                    ledger.file(pos)
                    self._unfiled = None
                orders[record.order_id] = record
                if record.buy:
                    pos.working_buy += record.leaves
                else:
                    pos.working_sell += record.leaves
                need = record.need
                if need:
                    pos.reserved += need
                    ledger.charge(pos, need)
            elif kind is DONE:
                order_id = event.order_id
                record = orders[order_id]
                del orders[order_id]  # not pop(): compiled, a method call costs three lookups
                leaves = record.leaves
                if not leaves:  # filled: its fills released everything
                    continue
                pos = record.pos
                if record.buy:
                    pos.working_buy -= leaves
                else:
                    pos.working_sell -= leaves
                need = record.need
                if need:
                    pos.reserved -= need
                    ledger.charge(pos, -need)
            elif kind is TRADE:
                trade = cast(Trade, event)
                buy = orders[event.buy_order_id]
                sell = orders[event.sell_order_id]
                pos = buy.pos
                if not pos.terms.cash:
                    self._fill(buy, trade.qty, trade.price, trade.buy_leaves)
                    self._fill(sell, trade.qty, trade.price, trade.sell_leaves)
                    continue
                # a fully paid right, inline (it runs on every fill): the buyer's reservation
                # for the quantity becomes a payable at the fill price plus fee, the price
                # improvement is released; the seller's holding goes (an issuer's sale issues
                # it) and the proceeds less fee offset what the seller owes in the instrument
                qty = trade.qty
                value = qty * trade.price
                fee_bp = self.fee_bp
                fee = (value * fee_bp + 9_999) // 10_000 if fee_bp else 0
                before = buy.need
                leaves = buy.leaves = trade.buy_leaves
                need = buy.unit * leaves  # need_of, inline
                fee_bp = buy.fee_bp
                if fee_bp and need:
                    need += (need * fee_bp + 9_999) // 10_000
                buy.need = need
                pos.working_buy -= qty  # a fill takes its quantity off the order's leaves
                old_net = pos.net
                net = pos.net = old_net + value + fee
                pos.qty += qty
                need -= before
                pos.reserved += need
                if net > 0:
                    need += net
                if old_net > 0:
                    need -= old_net
                if need:
                    ledger.charge(pos, need)
                pos = sell.pos
                sell.leaves = trade.sell_leaves
                pos.working_sell -= qty
                old_net = pos.net
                net = pos.net = old_net - value + fee
                terms = pos.terms
                if trade.seller == terms.issuer:
                    terms.issued += qty
                else:
                    pos.qty -= qty
                if old_net > 0:
                    ledger.charge(pos, (net if net > 0 else 0) - old_net)
                if terms.exclusive:
                    self._transfer_grant(trade)
            elif kind is AMENDED:
                amended = cast(OrderAmended, event)
                record = orders[event.order_id]
                record.price = amended.price
                self.revalue(record, amended.leaves_qty)
            elif kind is REFERENCE_CHANGED:
                self._reference_changed(cast(ReferencePriceChanged, event))
        if self._alerted:
            self.alerts.flush(events, events[0].seq, events[0].ts)

    def _value(self, e: OrderAccepted) -> OrderRecord:
        """The record of an order accepted unchecked (its position may not exist yet)."""
        pos = self._position(self.accounts[e.participant], self.core.books[e.instrument])
        buy = e.side == BUY
        unit, fee_bp = unit_of(pos.terms, buy, e.price, self.fee_bp)
        need = need_of(unit, fee_bp, e.qty)
        return OrderRecord(e.order_id, pos, buy, e.price, unit, fee_bp, e.qty, need)

    def _transfer_grant(self, e: Trade) -> None:
        terms = self.terms[e.instrument]
        primary = e.seller == terms.issuer
        self.grants.transfer(terms.instrument, e.seller, e.buyer, primary)
        self.alerts.pending.append(GrantTransferred(e.seq, e.ts, e.instrument, e.buyer))

    def _fill(self, record: OrderRecord, qty: int, price: int, leaves: int) -> None:
        """A derivative fill: futures move the position (and its margin), options also move
        premium cash; the order's reservation shrinks to what its rest needs."""
        pos = record.pos
        terms = pos.terms
        need = need_of(record.unit, record.fee_bp, leaves)
        pos.reserved += need - record.need
        record.need = need
        if record.buy:
            pos.working_buy -= record.leaves - leaves
        else:
            pos.working_sell -= record.leaves - leaves
        record.leaves = leaves
        signed = qty if record.buy else -qty
        pos.qty += signed
        if terms.option:
            value = qty * price * terms.multiplier
            fee = -(-value * self.fee_bp // 10_000)
            pos.net += value + fee if record.buy else fee - value
        self.ledger.charge(pos, pos.expected_usage() - pos.usage)

    def _reference_changed(self, e: ReferencePriceChanged) -> None:
        """A market or stop-market buy is valued at the band's edge: follow the band."""
        for order in list(self.core.books[e.instrument].orders.values()):
            record = self.orders[order.order_id]
            if not record.price and record.buy:
                self.revalue(record, record.leaves)

    def revalue(self, record: OrderRecord, leaves: int) -> None:
        """Re-reserve an order for ``leaves`` open units at today's unit and fee."""
        pos = record.pos
        if record.buy:
            pos.working_buy += leaves - record.leaves
        else:
            pos.working_sell += leaves - record.leaves
        record.leaves = leaves
        record.unit, record.fee_bp = unit_of(pos.terms, record.buy, record.price, self.fee_bp)
        need = need_of(record.unit, record.fee_bp, leaves)
        change = need - record.need
        if change:
            record.need = need
            pos.reserved += change
            self.ledger.charge(pos, change)

    # -- helpers ------------------------------------------------------------------------

    def _position(self, account: Account, book: Book) -> Position:
        """The account's position in the book's instrument; a new one stays out of the ledger
        (``_unfiled``) until its order is accepted."""
        pos = account.positions.get(book.instrument_id)
        if pos is None:
            pos = self._unfiled = Position(account, self.terms_of(book))
        return pos

    def terms_of(self, book: Book) -> Terms:
        """The instrument's risk terms, made on first use (instruments may be listed late)."""
        terms = self.terms.get(book.instrument_id)
        if terms is None:
            terms = self.terms[book.instrument_id] = Terms(book)
            terms.limited = self.ledger.assets.limited(book.instrument.ip_asset_ids)
        return terms

    def refresh_kills(self) -> None:
        """Recompute which accounts a participant or guarantor kill switch covers."""
        for account in self.accounts.values():
            account.killed = account.participant in self.killed_participants or any(
                g.guarantor in self.killed_guarantors for g, _ in account.backers
            )

    # -- fingerprint and invariants -----------------------------------------------------

    def state(self) -> tuple:
        ledger = self.ledger
        return (
            (self.fee_bp, self.fx.haircut_bp, self.fx.max_age_ns, self.alerts.alert_bp),
            (self.fx.stamp, sorted(self.fx.rates.items())),
            [ledger.guarantors[g].state() for g in sorted(ledger.guarantors)],
            [self.accounts[p].state() for p in sorted(self.accounts)],
            [self.orders[o].state() for o in sorted(self.orders)],
            [terms_state(self.terms[i]) for i in sorted(self.terms)],
            ledger.assets.state(),
            self.grants.state(),
            sorted(self.killed_participants),
            sorted(self.killed_guarantors),
        )

    def check(self) -> None:
        """Raise :class:`risk.invariants.RiskInvariantError` unless every reservation is
        exactly what its open order needs now, every total is the sum of its parts, and
        nothing is negative."""
        check_engine(self)
