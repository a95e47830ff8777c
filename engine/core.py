"""The deterministic core: one command in, a list of events out.

Public type: :class:`Core`.

``Core.apply(cmd, seq, ts)`` is a pure function of the core's state and the command: no clock,
no randomness, no I/O. The sequencer hands in the sequence number and the time, and every
event carries them, so replaying a journal of ``(seq, ts, cmd)`` rebuilds the same state and
the same events; :meth:`Core.fingerprint` proves it. Client faults never raise: they become
:class:`~engine.messages.OrderRejected` events and change nothing.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import msgspec

from engine.auction import check_english_order
from engine.book import Book, Level, Order
from engine.codes import Reason
from engine.instruments import BAND_BP_MAX, Instrument, instrument_problems
from engine.matching import Matcher, crosses, done_event, level_event
from engine.messages import (
    CALL_PHASES,
    AmendOrder,
    AnyCommand,
    BookLevelChanged,
    CancelOrder,
    DoneStatus,
    EndTradingDay,
    Event,
    InstrumentListed,
    ListInstrument,
    MassCancel,
    NewOrder,
    OrderAccepted,
    OrderAmended,
    OrderDone,
    OrderRejected,
    OrderType,
    ReferencePriceChanged,
    Request,
    SetPhase,
    SetReferencePrice,
    Side,
    StartEnglishAuction,
    Tick,
    TimeInForce,
    Uncross,
)
from engine.phases import ENGLISH, PhaseControl
from engine.validation import IMMEDIATE, call_reason, check_amend, stop_reason

BUY = Side.BUY
NEW = Request.NEW
AMEND = Request.AMEND
NO_REASON = Reason.NONE
CANCELLED = DoneStatus.CANCELLED
BY_PARTICIPANT = Reason.CANCELLED_BY_PARTICIPANT
LIMIT = OrderType.LIMIT
PRICED = (OrderType.LIMIT, OrderType.STOP_LIMIT)
"""Order types that carry a limit price."""
STOP = OrderType.STOP
GTD = TimeInForce.GTD
LAST_CONTINUOUS_TIF = TimeInForce.FOK
"""Time in force values above it (at open, at close, good for auction) are for calls only."""
_encode = msgspec.msgpack.Encoder().encode


class RiskControls(Protocol):
    """What the core asks of a risk module (``risk.RiskEngine`` is the real one).

    Risk decides before the match: the core asks it before accepting an order or an amend,
    in the documented check order (permission first, then the engine's own validation, then
    limits and credit), and feeds it every event afterwards, in order, so reservations turn
    into exposure on fills and are released by cancels and expiries within the same command.
    ``check_order`` is asked only right after ``check_permission`` passed the same order.
    """

    def attach(self, core: Core) -> None: ...
    def commands(self) -> dict[type, Callable[[Any, int, int, list], None]]: ...
    def check_permission(self, cmd: NewOrder, book: Book) -> Reason: ...
    def check_order(self, cmd: NewOrder, book: Book, ts: int) -> Reason: ...
    def check_amend(self, order: Order, cmd: AmendOrder, book: Book, ts: int) -> Reason: ...
    def on_events(self, events: list[Event]) -> None: ...
    def state(self) -> Any: ...
    def check(self) -> None: ...


class Core(PhaseControl):
    """All books of one engine shard, the matcher, the id counters and (optionally) risk."""

    def __init__(
        self, instruments: Iterable[Instrument] = (), risk: RiskControls | None = None
    ) -> None:
        self.books: dict[str, Book] = {}
        self.matcher = Matcher()
        self.last_order_id = 0
        self.id_gaps: list[tuple[int, int]] = []
        """Ranges of ids below ``last_order_id`` never accepted, ascending (append-only)."""
        self.last_seq = 0
        for instrument in instruments:
            problems = instrument_problems(instrument)
            if instrument.instrument_id in self.books:
                problems.append("listed twice")
            if problems:
                raise ValueError(f"{instrument.instrument_id}: {'; '.join(problems)}")
            self.books[instrument.instrument_id] = Book(instrument)
        self._handlers = {
            NewOrder: self._new_order,
            CancelOrder: self._cancel,
            AmendOrder: self._amend,
            MassCancel: self._mass_cancel,
            Tick: self._tick,
            Uncross: self._uncross,
            StartEnglishAuction: self._start_english_auction,
            EndTradingDay: self._end_trading_day,
            ListInstrument: self._list_instrument,
            SetPhase: self._set_phase,
            SetReferencePrice: self._set_reference_price,
        }
        self.risk = risk
        if risk is not None:
            risk.attach(self)
            self._handlers.update(risk.commands())

    # -- the one entry point ------------------------------------------------------------

    def apply(self, cmd: AnyCommand, seq: int, ts: int) -> list[Event]:
        """Apply one sequenced command; return the events it caused, in order."""
        out: list[Event] = []
        self._handlers[type(cmd)](cmd, seq, ts, out)
        self.last_seq = seq
        if self.risk is not None and out:
            self.risk.on_events(out)
        return out

    # -- reads --------------------------------------------------------------------------

    @property
    def instruments(self) -> list[Instrument]:
        return [book.instrument for book in self.books.values()]

    def book(self, instrument_id: str) -> Book:
        return self.books[instrument_id]

    def fingerprint(self) -> str:
        """SHA-256 over every book (hidden iceberg quantity and pending stops included),
        the phases and prices, and the id counters: equal fingerprints, equal markets."""
        state = (
            self.last_seq,
            self.last_order_id,
            self.id_gaps,
            self.matcher.last_trade_id,
            [self.books[key].state() for key in sorted(self.books)],
            None if self.risk is None else self.risk.state(),
        )
        return hashlib.sha256(_encode(state)).hexdigest()

    def next_deadline(self) -> int | None:
        """The earliest time at which a :class:`Tick` changes something (a GTD expiry, the
        end of an interruption or an English auction), None when nothing waits for the clock:
        the server sequences a tick only when one is due."""
        due = [book.gtd[0][0] for book in self.books.values() if book.gtd]
        due += [book.phase_end_ts for book in self.books.values() if book.phase_end_ts]
        return min(due, default=None)

    def check(self) -> None:
        """Raise :class:`~engine.book.InvariantError` if any book broke an invariant."""
        for book in self.books.values():
            book.check()
        if self.risk is not None:
            self.risk.check()

    # -- orders -------------------------------------------------------------------------

    def _reject(self, cmd, request: Request, reason: Reason, seq: int, ts: int, out: list):
        out.append(
            OrderRejected(
                seq,
                ts,
                getattr(cmd, "instrument", None) or "",
                getattr(cmd, "order_id", 0),
                getattr(cmd, "participant", ""),
                request,
                reason,
            )
        )

    def _new_order(self, cmd: NewOrder, seq: int, ts: int, out: list) -> None:
        """Check, accept and match a new order.

        Checks run in the documented order: the book and the id, risk's permission, the
        order's own rules (phase, quantity, price, stop, expiry, combinations), the English
        auction's, then risk's limits and credit; the first that fails is the reason. The
        order's own rules are written out here, where the values they check then build the
        order: seven commands in ten are new orders, and checking them in a call of their own
        cost 4% of a command's instructions (``benchmarks/README.md``).
        """
        book = self.books.get(cmd.instrument)
        if book is None:
            return self._reject(cmd, NEW, Reason.UNKNOWN_INSTRUMENT, seq, ts, out)
        order_id = cmd.order_id
        last_id = self.last_order_id
        if order_id <= last_id:
            return self._reject(cmd, NEW, Reason.DUPLICATE_ORDER_ID, seq, ts, out)
        risk = self.risk
        if risk is not None:
            reason = risk.check_permission(cmd, book)
            if reason:
                return self._reject(cmd, NEW, reason, seq, ts, out)
        if not book.continuous:
            reason = call_reason(book, cmd)
            if reason:
                return self._reject(cmd, NEW, reason, seq, ts, out)
        elif cmd.tif > LAST_CONTINUOUS_TIF:
            return self._reject(cmd, NEW, Reason.NOT_ALLOWED_IN_PHASE, seq, ts, out)
        instrument = book.instrument
        lot = instrument.lot_size
        qty = cmd.qty
        if qty <= 0 or qty % lot:
            return self._reject(cmd, NEW, Reason.QTY_NOT_LOT_MULTIPLE, seq, ts, out)
        order_type = cmd.order_type
        price = cmd.price
        if order_type in PRICED:
            if price <= 0:
                return self._reject(cmd, NEW, Reason.INVALID_PRICE, seq, ts, out)
            if price % instrument.tick_size:
                return self._reject(cmd, NEW, Reason.PRICE_OFF_TICK, seq, ts, out)
            if not book.band_low <= price <= book.band_high:
                return self._reject(cmd, NEW, Reason.PRICE_OUTSIDE_BAND, seq, ts, out)
        elif price != 0:
            return self._reject(cmd, NEW, Reason.INVALID_PRICE, seq, ts, out)
        elif cmd.post_only or cmd.display_qty:
            return self._reject(cmd, NEW, Reason.INVALID_ORDER_COMBINATION, seq, ts, out)
        stop = cmd.stop_price
        if order_type >= STOP:  # STOP or STOP_LIMIT, the highest types: one comparison
            reason = stop_reason(book, cmd)
            if reason:
                return self._reject(cmd, NEW, reason, seq, ts, out)
        elif stop:
            return self._reject(cmd, NEW, Reason.INVALID_ORDER_COMBINATION, seq, ts, out)
        tif = cmd.tif
        expire_ts = cmd.expire_ts
        if (expire_ts or tif == GTD) and (tif != GTD or expire_ts <= ts):
            return self._reject(cmd, NEW, Reason.INVALID_EXPIRY, seq, ts, out)
        post_only = cmd.post_only
        if post_only and (tif in IMMEDIATE or order_type != LIMIT):
            return self._reject(cmd, NEW, Reason.INVALID_ORDER_COMBINATION, seq, ts, out)
        peak = cmd.display_qty
        if peak:
            if tif in IMMEDIATE:
                return self._reject(cmd, NEW, Reason.INVALID_ORDER_COMBINATION, seq, ts, out)
            if not 0 < peak < qty or peak % lot:
                return self._reject(cmd, NEW, Reason.INVALID_DISPLAY_QTY, seq, ts, out)
        min_qty = cmd.min_qty
        if min_qty and (not 0 < min_qty <= qty or min_qty % lot):
            return self._reject(cmd, NEW, Reason.INVALID_MIN_QTY, seq, ts, out)
        if not book.continuous and book.phase == ENGLISH:
            reason = check_english_order(book, cmd)
            if reason:
                return self._reject(cmd, NEW, reason, seq, ts, out)
        if risk is not None:
            reason = risk.check_order(cmd, book, ts)
            if reason:
                return self._reject(cmd, NEW, reason, seq, ts, out)
        if post_only and book.continuous and crosses(book, cmd.side, price):
            return self._reject(cmd, NEW, Reason.POST_ONLY_WOULD_TAKE, seq, ts, out)
        if order_id > last_id + 1:
            self.id_gaps.append((last_id + 1, order_id - 1))
        self.last_order_id = order_id
        side = cmd.side
        participant = cmd.participant
        order = Order(
            order_id,
            participant,
            side,
            order_type,
            tif,
            price,
            qty,
            qty,
            0,
            peak,
            cmd.stp,
            post_only,
            stop,
            expire_ts,
            0,
            min_qty,
        )
        out.append(
            OrderAccepted(
                seq,
                ts,
                book.instrument_id,
                order_id,
                participant,
                side,
                order_type,
                tif,
                price,
                qty,
                stop,
                peak,
            )
        )
        if stop:
            book.add_stop(order)
            return None
        matcher = self.matcher
        matcher.execute(book, order, seq, ts, out, min_qty)
        if matcher.trade_high:
            matcher.release_stops(book, seq, ts, out)
        if not book.continuous:
            if book.phase == ENGLISH and side == BUY:
                self._extend_english(book, seq, ts, out)
            self._publish_indicative(book, seq, ts, out)
        return None

    def _live_order(self, cmd, request: Request, seq: int, ts: int, out: list):
        """The book and order a cancel or amend names, or None after rejecting it."""
        book = self.books.get(cmd.instrument)
        if book is None:
            self._reject(cmd, request, Reason.UNKNOWN_INSTRUMENT, seq, ts, out)
            return None
        order = book.orders.get(cmd.order_id)
        if order is None:
            known = self.was_accepted(cmd.order_id)
            reason = Reason.ORDER_NOT_LIVE if known else Reason.UNKNOWN_ORDER
            self._reject(cmd, request, reason, seq, ts, out)
            return None
        if order.participant != cmd.participant:
            self._reject(cmd, request, Reason.NOT_ORDER_OWNER, seq, ts, out)
            return None
        if not book.continuous and book.phase == ENGLISH:
            self._reject(cmd, request, Reason.AUCTION_BINDING, seq, ts, out)
            return None
        return book, order

    def was_accepted(self, order_id: int) -> bool:
        """Was this id ever accepted? O(log g) in the number of id gaps."""
        if not 0 < order_id <= self.last_order_id:
            return False
        i = bisect.bisect_right(self.id_gaps, order_id, key=_gap_start) - 1
        return i < 0 or self.id_gaps[i][1] < order_id

    def _cancel(self, cmd: CancelOrder, seq: int, ts: int, out: list) -> None:
        book = self.books.get(cmd.instrument)
        order = None if book is None else book.orders.get(cmd.order_id)
        if (
            order is None
            or order.participant != cmd.participant
            or (not book.continuous and book.phase == ENGLISH)
        ):
            self._live_order(cmd, Request.CANCEL, seq, ts, out)  # rejects with the reason
            return
        # Events built inline, not through done_event/_take_out/level_event: a quarter of
        # the commands are cancels, and each saved call is about 400 instructions.
        iid = book.instrument_id
        out.append(
            OrderDone(
                seq,
                ts,
                iid,
                order.order_id,
                order.participant,
                CANCELLED,
                BY_PARTICIPANT,
                order.leaves,
            )
        )
        if order.stop_price:
            book.remove_stop(order)
        else:
            level = book.unrest(order)
            price = level.price
            if price:
                out.append(
                    BookLevelChanged(seq, ts, iid, order.side, price, level.qty, len(level.orders))
                )
        if not book.continuous:
            self._publish_indicative(book, seq, ts, out)

    def _amend(self, cmd: AmendOrder, seq: int, ts: int, out: list) -> None:
        """Amend by the CME rule: a quantity decrease at the same price keeps time priority
        (so does any change to a pending stop); a price change or an increase moves the
        order to the back of its new level, where it trades if it crosses.

        The two paths and their events are written out here rather than in helpers: market
        makers amend many times a second, and each saved call is about 400 instructions.
        """
        found = self._live_order(cmd, AMEND, seq, ts, out)
        if not found:
            return
        book, order = found
        reason = check_amend(book, order, cmd)
        if not reason and self.risk is not None:
            reason = self.risk.check_amend(order, cmd, book, ts)
        price, qty = cmd.price, cmd.qty
        if (
            not reason
            and order.post_only
            and book.continuous
            and price != order.price
            and crosses(book, order.side, price)
        ):
            reason = Reason.POST_ONLY_WOULD_TAKE
        if reason:
            self._reject(cmd, AMEND, reason, seq, ts, out)
            return
        iid = book.instrument_id
        leaves = qty - order.filled
        if order.stop_price or (price == order.price and leaves < order.leaves):
            level = None  # a pending stop rests in no level
            if order.stop_price:
                order.price, order.qty, order.leaves = price, qty, leaves
            else:
                level = book.resize(order, leaves)
            out.append(
                OrderAmended(
                    seq, ts, iid, order.order_id, order.participant, price, leaves, True, NO_REASON
                )
            )
            if level is not None and price:
                out.append(
                    BookLevelChanged(seq, ts, iid, order.side, price, level.qty, len(level.orders))
                )
        else:
            level = book.unrest(order)
            old_price = level.price
            if old_price:
                out.append(
                    BookLevelChanged(
                        seq, ts, iid, order.side, old_price, level.qty, len(level.orders)
                    )
                )
            order.price, order.qty, order.leaves = price, qty, leaves
            out.append(
                OrderAmended(
                    seq, ts, iid, order.order_id, order.participant, price, leaves, False, NO_REASON
                )
            )
            matcher = self.matcher
            matcher.execute(book, order, seq, ts, out)
            if matcher.trade_high:
                matcher.release_stops(book, seq, ts, out)
        if not book.continuous:
            self._publish_indicative(book, seq, ts, out)

    def _mass_cancel(self, cmd: MassCancel, seq: int, ts: int, out: list) -> None:
        if cmd.instrument is not None and cmd.instrument not in self.books:
            self._reject(cmd, Request.MASS_CANCEL, Reason.UNKNOWN_INSTRUMENT, seq, ts, out)
            return
        books = [self.books[cmd.instrument]] if cmd.instrument else self.books.values()
        for book in books:
            doomed = [
                o
                for o in book.orders.values()
                if o.participant == cmd.participant and (cmd.side is None or o.side == cmd.side)
            ]
            self._remove_all(
                book, doomed, DoneStatus.CANCELLED, Reason.MASS_CANCELLED, seq, ts, out
            )
            if doomed and book.phase in CALL_PHASES:
                self._publish_indicative(book, seq, ts, out)

    def cancel_orders_of(
        self, participants: set[str], reason: Reason, seq: int, ts: int, out: list
    ) -> None:
        """Cancel every live order of these participants in every book (the kill switch)."""
        for book in self.books.values():
            doomed = [o for o in book.orders.values() if o.participant in participants]
            self._remove_all(book, doomed, CANCELLED, reason, seq, ts, out)

    def _remove_all(
        self,
        book: Book,
        orders: list[Order],
        status: DoneStatus,
        reason: Reason,
        seq: int,
        ts: int,
        out: list,
    ) -> None:
        """Remove many orders in id order, reporting each touched level once at the end."""
        touched = {}
        for order in sorted(orders, key=_order_id):
            out.append(done_event(book, order, seq, ts, status, reason))
            level = _take_out(book, order)
            if level is not None:
                touched[(order.side, level.price)] = level
        for (side, _), level in sorted(touched.items(), key=_level_key):
            out.append(level_event(book, side, level, seq, ts))

    # -- calendar -----------------------------------------------------------------------

    def _tick(self, cmd: Tick, seq: int, ts: int, out: list) -> None:
        """The clock moved: expire due GTD orders, end due interruptions and auctions."""
        for book in self.books.values():
            due = book.gtd and book.gtd[0][0] <= ts
            self._expire_due(book, ts, seq, out)
            if book.phase_end_ts and book.phase_end_ts <= ts:
                if book.phase == ENGLISH:
                    self._close_english(book, seq, ts, out)
                else:
                    self._run_uncross(book, seq, ts, out)
            elif due and book.phase in CALL_PHASES:
                self._publish_indicative(book, seq, ts, out)

    def _expire_due(self, book: Book, ts: int, seq: int, out: list) -> None:
        due = [book.orders[oid] for expire_ts, oid in book.gtd if expire_ts <= ts]
        self._remove_all(book, due, DoneStatus.EXPIRED, Reason.EXPIRED_GTD, seq, ts, out)

    def _end_trading_day(self, cmd: EndTradingDay, seq: int, ts: int, out: list) -> None:
        if cmd.instrument is not None and cmd.instrument not in self.books:
            self._reject(cmd, Request.ADMIN, Reason.UNKNOWN_INSTRUMENT, seq, ts, out)
            return
        books = [self.books[cmd.instrument]] if cmd.instrument else self.books.values()
        for book in books:
            self._expire_due(book, ts, seq, out)
            day = [o for o in book.orders.values() if o.tif == TimeInForce.DAY]
            self._remove_all(book, day, DoneStatus.EXPIRED, Reason.EXPIRED_END_OF_DAY, seq, ts, out)
            if book.phase in CALL_PHASES:
                self._publish_indicative(book, seq, ts, out)

    # -- operator -----------------------------------------------------------------------

    def _list_instrument(self, cmd: ListInstrument, seq: int, ts: int, out: list) -> None:
        instrument = cmd.instrument
        if instrument.instrument_id in self.books:
            reason = Reason.INSTRUMENT_EXISTS
        elif instrument_problems(instrument):
            reason = Reason.INVALID_INSTRUMENT
        else:
            self.books[instrument.instrument_id] = Book(instrument)
            out.append(InstrumentListed(seq, ts, instrument))
            return
        out.append(OrderRejected(seq, ts, instrument.instrument_id, 0, "", Request.ADMIN, reason))

    def _set_reference_price(self, cmd: SetReferencePrice, seq: int, ts: int, out: list) -> None:
        book = self.books.get(cmd.instrument)
        if book is None:
            reason = Reason.UNKNOWN_INSTRUMENT
        elif cmd.price <= 0:
            reason = Reason.INVALID_PRICE
        elif not 0 <= cmd.band_bp <= BAND_BP_MAX:
            reason = Reason.INVALID_INSTRUMENT
        elif cmd.price % book.instrument.tick_size:
            reason = Reason.PRICE_OFF_TICK
        else:
            book.set_reference_price(cmd.price, cmd.band_bp)
            out.append(
                ReferencePriceChanged(
                    seq, ts, cmd.instrument, book.reference_price, book.band_low, book.band_high
                )
            )
            return
        self._reject(cmd, Request.ADMIN, reason, seq, ts, out)


def _take_out(book: Book, order: Order) -> Level | None:
    """Remove a live order from the book; return its price level (None for a pending stop or
    a market order waiting for an auction, which have no level to report)."""
    if order.stop_price:
        book.remove_stop(order)
        return None
    level = book.unrest(order)
    return level if level.price else None


def _gap_start(gap: tuple[int, int]) -> int:
    return gap[0]


def _order_id(order: Order) -> int:
    return order.order_id


def _level_key(item: tuple) -> tuple:
    (side, price), _ = item
    return (side, price)
