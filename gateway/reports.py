"""Execution reports: the core's events turned into FIX reports for the orders' owners.

Public type: :class:`ReportRouting`, a mixin of :class:`gateway.session.Gateway` that keeps
each :class:`~gateway.participants.OrderRecord` up to date from the events of the command it
sequenced and queues the reports (execution reports, cancel rejects, mass-cancel reports,
quote and admin acknowledgements) for the owning sessions. Constants: the batch entry kinds
(:data:`REPLY` ... :data:`ADMIN`), which decide how an entry's events are reported.

The state lives in the gateway: ``orders`` (live records by engine order id), ``out`` and
``admin_out`` (the queued replies), ``exec_id``, ``seq``, ``clock``, ``trades`` (the
Merkle tree of trades, whose leaf a fill's report names), ``entries`` (where market maker
protection queues its cancels for the next batch) and ``replaying``.
"""

from __future__ import annotations

from engine.codes import Reason
from engine.messages import CancelOrder as EngineCancel
from engine.messages import (
    DoneStatus,
    Event,
    OrderAccepted,
    OrderAmended,
    OrderDone,
    OrderRejected,
    Request,
    Side,
    StopTriggered,
    Trade,
)
from gateway import protocol as p
from gateway.codec import encode
from gateway.participants import OrderRecord, Participant, QuoteAck, Session
from gateway.protocol import OrdStatus
from risk.report import credit_views, line_view, positions_view

# What produced an entry of the batch; decides how its events are reported. The journal
# keeps these numbers (``Origin.kind``): new kinds go at the end.
(
    REPLY, LOGON, NEW_ORDER, CANCEL, AMEND, MASS_CANCEL, QUOTE, STATUS, DISCONNECT, TIMER, ADMIN,
    MASS_STATUS, CREDIT, MMP, CREDIT_STATUS,
) = range(15)

FILLED = OrdStatus.FILLED
PARTIALLY_FILLED = OrdStatus.PARTIALLY_FILLED
BUY = Side.BUY
SELL = Side.SELL
ADDED = p.Liquidity.ADDED
REMOVED = p.Liquidity.REMOVED
_DONE_STATUS = {DoneStatus.CANCELLED: OrdStatus.CANCELLED, DoneStatus.EXPIRED: OrdStatus.EXPIRED}
_DONE_EXEC = {DoneStatus.CANCELLED: p.ExecType.CANCELLED, DoneStatus.EXPIRED: p.ExecType.EXPIRED}
NO_LEAF = (-1, b"")
_DONE_REASON = {DISCONNECT: Reason.MASS_CANCELLED, MMP: Reason.MMP_TRIGGERED}
"""Cancels the gateway itself sent, reported with the reason that made it send them."""


class ReportRouting:
    """Report routing for the gateway (see the module docstring for the state it uses)."""

    def _next_exec_id(self) -> int:
        self.exec_id += 1
        return self.exec_id

    def _send(self, session: Session, msg: p.Msg) -> None:
        self.out[session.routing_id].append(msg)

    def _report(
        self,
        record: OrderRecord,
        exec_type: p.ExecType,
        seq: int,
        ts: int,
        reason: Reason = Reason.NONE,
        last_qty: int = 0,
        last_px: int = 0,
        trade_id: int = 0,
        liquidity: p.Liquidity = p.Liquidity.NONE,
        leaf: tuple[int, bytes] = (-1, b""),
        to: Session | None = None,
        and_owner: bool = False,
    ) -> None:
        """Send the order's owner a FIX execution report of its current state (a fill's
        report also names its trade's leaf in the Merkle tree of trades): to the session
        ``to`` (one that asked), else to the order's session or another live one; with
        ``and_owner``, to both (another session of the participant cancelled or replaced
        the order: the one that asked is answered, the one that holds it learns)."""
        owner = record.participant.live_session(record.session)
        session = to or owner
        if session is None:
            return
        self.exec_id += 1
        status = record.status
        report = p.ExecutionReport(
            seq, ts, self.exec_id, exec_type, status, record.cl_ord_id,
            record.orig_cl_ord_id, record.order_id, record.instrument, record.side,
            record.price, record.order_qty,
            record.order_qty - record.cum_qty if status < FILLED else 0,
            record.cum_qty, record.cum_notional, last_qty, last_px, trade_id,
            liquidity, reason, *leaf,
        )
        self.out[session.routing_id].append(report)
        if and_owner and owner is not None and owner is not session:
            self.out[owner.routing_id].append(report)

    def _status_report(self, session: Session, orig_cl_ord_id: int) -> None:
        """Answer :class:`~gateway.protocol.OrderStatus` to the session that asked."""
        record = session.participant.cl_ord_ids.get(orig_cl_ord_id)
        now = self.clock()
        if record is None:
            self.exec_id += 1
            report = p.ExecutionReport(
                self.seq, now, self.exec_id, p.ExecType.ORDER_STATUS, OrdStatus.REJECTED,
                orig_cl_ord_id, 0, 0, "", 0, 0, 0, 0, 0, 0, reason=Reason.UNKNOWN_ORDER,
            )
            return self._send(session, report)
        return self._report(record, p.ExecType.ORDER_STATUS, self.seq, now, to=session)

    def _mass_status_report(self, session: Session, msg: p.MassStatus) -> None:
        """Answer :class:`~gateway.protocol.MassStatus`: the participant's live orders in the
        order they were entered, then the count. A scan of all live orders: a catch-up
        request, rare and throttled like any other, so no per-participant index is kept."""
        participant = session.participant
        instrument, side = msg.instrument, msg.side
        now = self.clock()
        count = 0
        for record in self.orders.values():
            if (
                record.participant is participant
                and (not instrument or record.instrument == instrument)
                and (not side or record.side == side)
            ):
                self._report(record, p.ExecType.ORDER_STATUS, self.seq, now, to=session)
                count += 1
        self._send(session, p.MassStatusReport(self.seq, now, msg.request_id, count))

    def _credit_status_report(self, session: Session, msg: p.CreditStatus) -> None:
        """Answer :class:`~gateway.protocol.CreditStatus`: the asker's own line only."""
        risk = self.core.risk
        name = session.participant.name
        line = line_view(risk, name) if risk is not None else None
        if line is None:
            report = p.CreditStatusReport(
                self.seq, self.clock(), msg.request_id, None, Reason.NOT_PERMITTED
            )
        else:
            positions = positions_view(risk, name) or []
            report = p.CreditStatusReport(
                self.seq, self.clock(), msg.request_id, line, Reason.NONE, positions
            )
        self._send(session, report)

    def _credit_report(self, rid: bytes, query: p.CreditQuery) -> None:
        """Answer an operator's :class:`~gateway.protocol.CreditQuery` on the admin port."""
        risk = self.core.risk
        views = credit_views(risk, query.participant) if risk is not None else None
        if views is None:
            report = p.CreditReport(query.request_id, self.seq, [], [], Reason.NOT_PERMITTED)
        else:
            named = query.participant
            positions = (positions_view(risk, named) or []) if named else []
            report = p.CreditReport(query.request_id, self.seq, *views, Reason.NONE, positions)
        self.admin_out.append((rid, encode(report)))

    # -- routing core events to owners ------------------------------------------------------

    def _route(self, entry: tuple, events: list[Event], seq: int, ts: int) -> None:
        kind = entry[0]
        orders = self.orders
        trades = self.trades
        for event in events:
            event_type = type(event)
            if event_type is Trade:
                aggressor = event.aggressor
                leaf = trades.add(event) if trades is not None else NO_LEAF
                buy = orders.get(event.buy_order_id)
                if buy is not None:
                    side_liquidity = REMOVED if aggressor == BUY else ADDED
                    self._fill(buy, event, event.buy_leaves, side_liquidity, seq, ts, leaf)
                sell = orders.get(event.sell_order_id)
                if sell is not None:
                    side_liquidity = REMOVED if aggressor == SELL else ADDED
                    self._fill(sell, event, event.sell_leaves, side_liquidity, seq, ts, leaf)
            elif event_type is OrderAccepted:
                record = orders.get(event.order_id)
                if record is not None and kind != QUOTE:
                    self._report(record, p.ExecType.NEW, seq, ts)
            elif event_type is OrderDone:
                self._done(entry, event, seq, ts)
            elif event_type is OrderAmended:
                self._amended(entry, event, seq, ts)
            elif event_type is OrderRejected:
                self._rejected(entry, event, seq, ts)
            elif event_type is StopTriggered:
                record = orders.get(event.order_id)
                if record is not None:
                    self._report(record, p.ExecType.TRIGGERED, seq, ts)
        if kind == MASS_CANCEL:
            cancelled = sum(type(event) is OrderDone for event in events)
            reason = events[0].reason if events and type(events[0]) is OrderRejected else 0
            report = p.MassCancelReport(seq, ts, entry[3].cl_ord_id, cancelled, Reason(reason))
            self._send(entry[2], report)
        elif kind == QUOTE:
            ack: QuoteAck = entry[3]
            ack.pending -= 1
            if not ack.pending:
                self._send(ack.session, p.MassQuoteAck(seq, ts, ack.quote_id, ack.rejects))
        elif kind == ADMIN:
            reason = next((e.reason for e in events if type(e) is OrderRejected), Reason.NONE)
            ack = p.AdminAck(entry[3], seq, reason, events)
            self.admin_out.append((entry[2], encode(ack)))

    def _fill(
        self, record: OrderRecord, trade: Trade, leaves: int, liquidity, seq, ts, leaf
    ) -> None:
        qty = trade.qty
        price = trade.price
        record.cum_qty += qty
        record.cum_notional += qty * price
        record.order_qty = record.cum_qty + leaves
        if leaves:
            record.status = PARTIALLY_FILLED
            exec_type = p.ExecType.PARTIAL_FILL
        else:
            record.status = FILLED
            exec_type = p.ExecType.FILL
        self._report(
            record, exec_type, seq, ts, Reason.NONE, qty, price, trade.trade_id, liquidity, leaf
        )
        if record.quote:
            mmp = record.participant.mmp
            if mmp is not None and not self.replaying and mmp.on_fill(ts, qty):
                self._pull_quotes(record.participant)

    def _pull_quotes(self, participant: Participant) -> None:
        """Market maker protection tripped: cancel every live quote of ``participant`` in the
        next batch (this one is journaled already); reported MMP_TRIGGERED."""
        name = participant.name
        for record in participant.quotes.values():
            if record.status < FILLED:
                cmd = EngineCancel(record.instrument, record.order_id, name)
                self.entries.append((MMP, cmd, None, None, record))

    def _done(self, entry: tuple, event: OrderDone, seq: int, ts: int) -> None:
        record = self.orders.pop(event.order_id, None)
        if record is None:
            return
        record.session.orders.pop(event.order_id, None)
        if event.status == DoneStatus.FILLED:
            record.status = FILLED  # the fill's report already said so
            return
        record.status = _DONE_STATUS[event.status]
        kind = entry[0]
        if kind == QUOTE and entry[4][2] is record:
            return  # the quoter withdrew this side; its MassQuoteAck says so
        if kind == CANCEL and entry[4] is record:
            record.orig_cl_ord_id = record.cl_ord_id
            record.cl_ord_id = entry[3].cl_ord_id
            record.participant.cl_ord_ids[record.cl_ord_id] = record
        reason = _DONE_REASON.get(kind, event.reason)
        requester = entry[2] if kind == CANCEL and entry[4] is record else None
        self._report(
            record, _DONE_EXEC[event.status], seq, ts, reason, to=requester, and_owner=True
        )

    def _amended(self, entry: tuple, event: OrderAmended, seq: int, ts: int) -> None:
        record = self.orders.get(event.order_id)
        if record is None:
            return
        record.price = event.price
        record.order_qty = record.cum_qty + event.leaves_qty
        kind = entry[0]
        if kind == AMEND and entry[4] is record:
            record.orig_cl_ord_id = record.cl_ord_id
            record.cl_ord_id = entry[3].cl_ord_id
            record.participant.cl_ord_ids[record.cl_ord_id] = record
            self._report(record, p.ExecType.REPLACED, seq, ts, to=entry[2], and_owner=True)
        elif kind == QUOTE and entry[4][2] is record:
            return
        else:
            self._report(record, p.ExecType.RESTATED, seq, ts, event.reason)

    def _rejected(self, entry: tuple, event: OrderRejected, seq: int, ts: int) -> None:
        kind = entry[0]
        reason = event.reason
        if kind == QUOTE:
            index, side, record = entry[4]
            entry[3].rejects.append(p.QuoteReject(index, side, reason))
            if event.request == Request.NEW:
                self._forget(record)
                record.status = OrdStatus.REJECTED
            return
        if kind == NEW_ORDER:
            record = entry[4]
            self._forget(record)
            record.status = OrdStatus.REJECTED
            self._report(record, p.ExecType.REJECTED, seq, ts, reason)
        elif kind in (CANCEL, AMEND):
            record, msg = entry[4], entry[3]
            to = p.ResponseTo.CANCEL if kind == CANCEL else p.ResponseTo.AMEND
            reject = p.CancelReject(
                seq, ts, msg.cl_ord_id, msg.orig_cl_ord_id, record.order_id, record.status, to,
                reason,
            )
            self._send(entry[2], reject)

    def _forget(self, record: OrderRecord) -> None:
        self.orders.pop(record.order_id, None)
        record.session.orders.pop(record.order_id, None)
