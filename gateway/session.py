"""The session layer, without sockets: requests in, sequenced commands and replies out.

Public type: :class:`Gateway` (the layer).

Like h11, this module does no I/O: :mod:`gateway.server` feeds it frames and the clock and
sends what it produces, so every rule here (logon, throttle, idempotent client order ids,
ownership, cancel-on-disconnect, market maker protection) is testable without a network.
Who is connected and what they own is :mod:`gateway.participants`; turning the core's events
into FIX reports for the orders' owners, and answering status and credit queries, is
:mod:`gateway.reports`; the admin port's reads (credit, sessions) and the risk desk's stream
(:class:`~gateway.protocol.Watch`) are served here between commands.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from typing import get_args

from engine.codes import Reason
from engine.core import Core
from engine.messages import AmendOrder as EngineAmend
from engine.messages import CancelOrder as EngineCancel
from engine.messages import (
    Event,
    Side,
    Tick,
    Trade,
)
from engine.messages import MassCancel as EngineMassCancel
from engine.messages import NewOrder as EngineNewOrder
from gateway import protocol as p
from gateway.codec import WireError, decode_admin_request, decode_request, encode, peek
from gateway.config import ServerConfig
from gateway.journal import Journal
from gateway.mmp import MarketMakerProtection
from gateway.participants import OrderRecord, Participant, QuoteAck, Session, TokenBucket
from gateway.protocol import OrdStatus
from gateway.receipts import TradeLog
from gateway.records import Origin
from gateway.reports import (
    ADMIN,
    AMEND,
    CANCEL,
    CREDIT,
    CREDIT_STATUS,
    DISCONNECT,
    LOGON,
    MASS_CANCEL,
    MASS_STATUS,
    NEW_ORDER,
    QUOTE,
    REPLY,
    STATUS,
    TIMER,
    ReportRouting,
)
from risk.messages import RiskEvent

RISK_EVENTS = frozenset(get_args(RiskEvent))
"""What a watching operator is sent: alerts, kill switches, settings, grant transfers."""
RISK_EVENTS_AND_TRADES = RISK_EVENTS | {Trade}
"""What a watcher that asked for the drop copy is sent: those, and every trade."""
NEW = OrdStatus.NEW
FILLED = OrdStatus.FILLED
BUY = Side.BUY
SELL = Side.SELL


class Gateway(ReportRouting):
    """Sessions, client order ids and report routing around one :class:`~engine.core.Core`.

    Feed it with :meth:`on_order_frame`, :meth:`on_admin_frame`, :meth:`on_peer_lost`,
    :meth:`on_admin_peer_lost` and :meth:`on_timer`; then :meth:`process` sequences what
    accumulated, journals it, applies it and leaves the replies in :attr:`out` (order port:
    routing id -> responses, in request order, sent as one frame per connection) and
    :attr:`admin_out` (admin port: ``(routing_id, frame)`` pairs).
    """

    def __init__(
        self,
        core: Core,
        config: ServerConfig,
        participants: Iterable[str],
        admins: Iterable[str],
        journal: Journal,
        clock=time.time_ns,
        trades: TradeLog | None = None,
    ) -> None:
        self.core = core
        self.config = config
        self.journal = journal
        self.clock = clock
        self.participants = {name: _participant(name, config) for name in participants}
        self.admins = frozenset(admins)
        self.sessions: dict[bytes, Session] = {}
        self.orders: dict[int, OrderRecord] = {}
        """Live orders by engine order id."""
        self.seq = core.last_seq
        self.last_order_id = core.last_order_id
        self.exec_id = 0
        self.trades = trades
        """The Merkle tree of trades, when the server keeps evidence."""
        self.last_ts = 0
        """The time stamped on the last sequenced command (tree heads carry it)."""
        self.entries: list[tuple] = []
        self.watchers: dict[bytes, bool] = {}
        """Admin connections following the risk desk's stream (:class:`~gateway.protocol.Watch`),
        each with whether it takes the trades too."""
        self.replaying = False
        """True while :meth:`replay` rebuilds the state: market maker protection, whose
        counters are not journaled, then neither counts nor pulls."""
        self.out: defaultdict[bytes, list[p.Msg]] = defaultdict(list)
        self.admin_out: list[tuple[bytes, bytes]] = []
        self._next_tick_ns = 0
        self.offline: dict[str, Session] = {}
        """Placeholder sessions owning the orders recovered from the journal."""
        self._admin_handlers = {
            p.AdminRequest: self._admin_command,
            p.CreditQuery: self._credit_query,
            p.SessionsQuery: self._sessions_query,
            p.EndSessions: self._end_sessions,
            p.Watch: self._watch,
        }
        self._handlers = {
            p.NewOrder: self._new_order,
            p.CancelOrder: self._cancel,
            p.AmendOrder: self._amend,
            p.MassCancel: self._mass_cancel,
            p.MassQuote: self._mass_quote,
            p.OrderStatus: self._status,
            p.MassStatus: self._mass_status,
            p.CreditStatus: self._credit_status,
            p.Heartbeat: _ignore,
            p.Logout: self._logout,
            p.Logon: self._second_logon,
        }

    # -- input ------------------------------------------------------------------------------

    def take_replies(self) -> tuple[dict[bytes, list[p.Msg]], list[tuple[bytes, bytes]]]:
        """Hand over (and forget) the replies produced so far, for the server to send."""
        out, admin = self.out, self.admin_out
        if out:
            self.out = defaultdict(list)
        if admin:
            self.admin_out = []
        return out, admin

    def on_order_frame(self, rid: bytes, user: str, payload: bytes, now_ns: int) -> None:
        """One order-port message from the connection ``rid`` whose key belongs to ``user``."""
        session = self.sessions.get(rid)
        if session is not None and session.participant.name != user:
            # The routing id was reused by another key after its owner vanished.
            self._end_session(session, Reason.NONE, notify=False)
            session = None
        if len(payload) > self.config.max_message_size:
            return self._reply(rid, p.BusinessReject(*peek(b""), Reason.OVERSIZED, "too long"))
        try:
            msg = decode_request(payload)
        except WireError as error:
            tag, ref = peek(payload)
            return self._reply(rid, p.BusinessReject(tag, ref, error.reason, error.text[:200]))
        if session is None:
            if type(msg) is p.Logon:
                return self._logon(rid, user, msg, now_ns)
            return self._reply(rid, _business_reject(msg, Reason.NOT_LOGGED_ON))
        session.last_recv_ns = now_ns
        kind = type(msg)
        if kind is not p.Heartbeat and kind is not p.Logout and not session.bucket.take(now_ns):
            return self._refuse(session, msg, Reason.THROTTLED)
        self._handlers[kind](session, msg)
        return None

    def on_bad_envelope(self, rid: bytes, frames: int) -> None:
        """A message with other than one payload frame: rejected, the session survives."""
        text = f"expected 1 payload frame, got {frames}"
        self._reply(rid, p.BusinessReject(0, 0, Reason.BAD_ENVELOPE, text))

    def on_admin_frame(self, rid: bytes, user: str, payload: bytes) -> None:
        """One admin-port message; only registered admin keys may send commands."""
        try:
            request = decode_admin_request(payload)
        except WireError as error:
            ack = p.AdminAck(peek(payload)[1], 0, error.reason, [], error.text[:200])
            self._admin_reply(rid, ack)
            return
        if user not in self.admins:
            self._admin_reply(rid, _admin_refusal(request, Reason.NOT_AUTHORISED))
            return
        self._admin_handlers[type(request)](rid, request)

    def _admin_reply(self, rid: bytes, reply: p.Msg) -> None:
        self.entries.append((REPLY, None, rid, encode(reply), True))

    def _admin_command(self, rid: bytes, request: p.AdminRequest) -> None:
        self.entries.append((ADMIN, request.command, rid, request.request_id, None))

    def _credit_query(self, rid: bytes, request: p.CreditQuery) -> None:
        # Answered between commands, like a status query: it sees every command before it.
        self.entries.append((CREDIT, None, rid, request, True))

    def _sessions_query(self, rid: bytes, request: p.SessionsQuery) -> None:
        views = self._session_views(request.participant)
        self._admin_reply(rid, p.SessionsReport(request.request_id, self.seq, views))

    def _end_sessions(self, rid: bytes, request: p.EndSessions) -> None:
        views = self._session_views(request.participant)
        for session in [s for s in self.sessions.values() if s.logged_on]:
            if session.participant.name == request.participant:
                self._end_session(session, Reason.LOGGED_OUT_BY_OPERATOR, notify=True)
        self._admin_reply(rid, p.SessionsReport(request.request_id, self.seq, views))

    def _watch(self, rid: bytes, request: p.Watch) -> None:
        if request.on:
            self.watchers[rid] = request.trades
        else:
            self.watchers.pop(rid, None)
        self._admin_reply(rid, p.Watching(request.request_id, self.seq, request.on))

    def _session_views(self, participant: str) -> list[p.SessionView]:
        """The logged-on sessions (of ``participant``, if named) by participant, then by
        logon time."""
        views = [
            p.SessionView(
                s.participant.name, s.routing_id.hex(), s.logon_ts, s.heartbeat_ns // 1_000_000,
                s.cancel_on_disconnect, len(s.orders),
            )
            for s in self.sessions.values()
            if s.logged_on and (not participant or s.participant.name == participant)
        ]
        return sorted(views, key=lambda v: (v.participant, v.logon_ts))

    def on_admin_peer_lost(self, rid: bytes) -> None:
        """An admin connection is gone (a send found no route): stop streaming to it."""
        self.watchers.pop(rid, None)

    def on_peer_lost(self, rid: bytes) -> None:
        """The transport says the peer is gone (a send found no route): end its session."""
        session = self.sessions.get(rid)
        if session is not None:
            self._end_session(session, Reason.NONE, notify=False)

    def on_timer(self, now_ns: int, mono_ns: int, due_ns: int | None) -> None:
        """Heartbeats, session timeouts and the sequenced clock :class:`Tick`, once ``due_ns``
        (the earliest GTD expiry, end of an interruption or English auction, or bar close)
        has passed: an idle exchange journals nothing."""
        for session in list(self.sessions.values()):
            if session.timed_out(mono_ns):
                self._end_session(session, Reason.SESSION_TIMEOUT, notify=True)
            elif mono_ns - session.last_send_ns >= session.heartbeat_ns:
                session.last_send_ns = mono_ns
                self._reply(session.routing_id, p.Heartbeat(now_ns))
        if due_ns is not None and due_ns <= now_ns and now_ns >= self._next_tick_ns:
            self._next_tick_ns = now_ns + self.config.tick_interval_ms * 1_000_000
            self.entries.append((TIMER, Tick(), None, None, None))

    def enqueue(self, command) -> None:
        """Sequence a command of the exchange's own (start-up setup, schedules) with the
        next batch, journaled like any other; its events reach only the sinks."""
        self.entries.append((TIMER, command, None, None, None))

    # -- sequencing -------------------------------------------------------------------------

    def process(self) -> list[Event]:
        """Stamp, journal and apply everything received; return the events for the sinks."""
        entries = self.entries
        if not entries:
            return []
        self.entries = []
        clock = self.clock
        seq = self.seq
        batch = []
        for entry in entries:
            if entry[1] is not None:
                seq += 1
                batch.append((seq, clock(), entry[1], _origin(entry)))
        self.journal.append(batch)  # durable before anything below is acknowledged
        self.seq = seq
        if batch:
            self.last_ts = batch[-1][1]
        apply = self.core.apply
        produced: list[Event] = []
        stamped = iter(batch)
        for entry in entries:
            if entry[1] is None:
                self._immediate(entry)
                continue
            seq, ts, cmd, _ = next(stamped)
            events = apply(cmd, seq, ts)
            self._route(entry, events, seq, ts)
            produced += events
        if self.watchers and produced:
            self._stream_to_watchers(produced)
        return produced

    def _stream_to_watchers(self, events: list[Event]) -> None:
        """Send the batch's risk events (and trades, to those who asked) to every watching
        admin connection; each frame is encoded once, and only when it has something."""
        frames = {}
        for trades, kinds in ((False, RISK_EVENTS), (True, RISK_EVENTS_AND_TRADES)):
            if trades in self.watchers.values():
                chosen = [event for event in events if type(event) in kinds]
                frames[trades] = encode(p.RiskEvents(self.seq, chosen)) if chosen else None
        self.admin_out.extend(
            (rid, frames[trades]) for rid, trades in self.watchers.items() if frames[trades]
        )

    def _immediate(self, entry: tuple) -> None:
        kind, _, target, payload, admin = entry
        if kind == REPLY:
            if admin:
                self.admin_out.append((target, payload))
            else:
                self.out[target].append(payload)
        elif kind == LOGON:
            # Only now may the session receive reports (say, for its participant's other
            # sessions' orders): nothing reaches a client before its LogonAck.
            if target.logged_on:
                target.participant.sessions.append(target)
                self.out[target.routing_id].append(payload)
        elif kind == STATUS:  # answered now, so it reflects every command before it
            self._status_report(target, payload.orig_cl_ord_id)
        elif kind == MASS_STATUS:  # likewise
            self._mass_status_report(target, payload)
        elif kind == CREDIT_STATUS:  # likewise
            self._credit_status_report(target, payload)
        else:  # CREDIT, likewise
            self._credit_report(target, payload)

    def replay(self, seq: int, ts: int, cmd, origin: Origin | None) -> list[Event]:
        """Apply a journaled command as :meth:`process` did, rebuilding the client order id
        maps and order records from its origin; the replies it makes are dropped.

        Orders replayed belong to an offline placeholder session of their participant, so
        their later reports go to whichever session the participant logs on with next.
        """
        kind = origin.kind if origin is not None else TIMER
        name = getattr(cmd, "participant", "")
        participant = self.participants.get(name)
        if participant is None and kind not in (TIMER, DISCONNECT, ADMIN):
            participant = self.participants[name] = Participant(name)
        session = self.offline_session(participant) if participant is not None else None
        entry: tuple = (TIMER, cmd, None, None, None)
        if kind == NEW_ORDER:
            record = OrderRecord(
                cmd.order_id, origin.cl_ord_id, participant, session, cmd.instrument,
                cmd.side, cmd.price, cmd.qty,
            )
            self._remember(participant, session, origin.cl_ord_id, record)
            entry = (NEW_ORDER, cmd, session, origin, record)
        elif kind in (CANCEL, AMEND):
            record = participant.cl_ord_ids.get(origin.orig_cl_ord_id)
            participant.cl_ord_ids[origin.cl_ord_id] = None
            entry = (kind, cmd, session, origin, record)
        elif kind == MASS_CANCEL:
            participant.cl_ord_ids[origin.cl_ord_id] = None
            entry = (MASS_CANCEL, cmd, session, origin, None)
        elif kind == QUOTE:
            record = participant.quotes.get((cmd.instrument, origin.side))
            if type(cmd) is EngineNewOrder:
                record = OrderRecord(
                    cmd.order_id, 0, participant, session, cmd.instrument, cmd.side,
                    cmd.price, cmd.qty, True,
                )
                participant.quotes[(cmd.instrument, origin.side)] = record
                self._remember(participant, session, 0, record)
            ack = QuoteAck(session, 0)
            ack.pending = 1
            entry = (QUOTE, cmd, session, ack, (0, origin.side, record))
        events = self.core.apply(cmd, seq, ts)
        self.replaying = True
        try:
            self._route(entry, events, seq, ts)
        finally:
            self.replaying = False
        self.seq, self.last_ts = seq, ts
        self.out.clear()
        self.admin_out.clear()
        return events

    def offline_session(self, participant: Participant) -> Session:
        """The participant's placeholder session for orders entered before a restart."""
        session = self.offline.get(participant.name)
        if session is None:
            session = Session(b"", participant, 0, False, TokenBucket(1, 1, 0), 0)
            session.logged_on = False
            self.offline[participant.name] = session
        return session

    def _remember(
        self, participant: Participant, session: Session, cl_ord_id: int, record: OrderRecord
    ) -> None:
        if record.order_id > self.last_order_id:
            self.last_order_id = record.order_id
        if cl_ord_id:
            participant.cl_ord_ids[cl_ord_id] = record
        self.orders[record.order_id] = record
        session.orders[record.order_id] = record

    # -- requests ---------------------------------------------------------------------------

    def _logon(self, rid: bytes, user: str, msg: p.Logon, now_ns: int) -> None:
        config = self.config
        participant = self.participants.get(user)
        heartbeat_ms = msg.heartbeat_ms or config.heartbeat_ms
        if participant is None:
            return self._reply(rid, p.LogonReject(Reason.NOT_AUTHORISED, "not a participant"))
        if msg.version != p.PROTOCOL_VERSION:
            text = f"this server speaks version {p.PROTOCOL_VERSION}"
            return self._reply(rid, p.LogonReject(Reason.UNSUPPORTED_VERSION, text))
        if not config.min_heartbeat_ms <= heartbeat_ms <= config.max_heartbeat_ms:
            text = f"heartbeat_ms must be {config.min_heartbeat_ms}..{config.max_heartbeat_ms}"
            return self._reply(rid, p.LogonReject(Reason.INVALID_HEARTBEAT, text))
        bucket = TokenBucket(config.throttle_rate, config.throttle_burst, now_ns)
        session = Session(
            rid, participant, heartbeat_ms * 1_000_000, msg.cancel_on_disconnect, bucket, now_ns
        )
        self.sessions[rid] = session
        session.logon_ts = self.clock()
        ack = p.LogonAck(
            participant.name,
            p.PROTOCOL_VERSION,
            heartbeat_ms,
            config.throttle_rate,
            config.throttle_burst,
            config.max_message_size,
            session.logon_ts,
        )
        self.entries.append((LOGON, None, session, ack, False))
        return None

    def _second_logon(self, session: Session, msg: p.Logon) -> None:
        self._reply(session.routing_id, p.BusinessReject(1, 0, Reason.ALREADY_LOGGED_ON))

    def _logout(self, session: Session, msg: p.Logout) -> None:
        self._end_session(session, Reason.NONE, notify=True)

    def _new_order(self, session: Session, msg: p.NewOrder) -> None:
        participant = session.participant
        cl_ord_ids = participant.cl_ord_ids
        if msg.cl_ord_id in cl_ord_ids:
            return self._refuse(session, msg, Reason.DUPLICATE_CL_ORD_ID)
        self.last_order_id = order_id = self.last_order_id + 1
        cmd = EngineNewOrder(
            msg.instrument,
            order_id,
            participant.name,
            msg.side,
            msg.qty,
            msg.price,
            msg.order_type,
            msg.tif,
            msg.stop_price,
            msg.display_qty,
            msg.min_qty,
            msg.post_only,
            msg.stp,
            msg.expire_ts,
        )
        record = OrderRecord(
            order_id,
            msg.cl_ord_id,
            participant,
            session,
            msg.instrument,
            msg.side,
            msg.price,
            msg.qty,
        )
        cl_ord_ids[msg.cl_ord_id] = record
        self.orders[order_id] = record
        session.orders[order_id] = record
        self.entries.append((NEW_ORDER, cmd, session, msg, record))
        return None

    def _target(self, session: Session, msg) -> OrderRecord | None:
        """The own order a cancel or amend names, after its new id is checked; else None."""
        cl_ord_ids = session.participant.cl_ord_ids
        if msg.cl_ord_id in cl_ord_ids:
            self._refuse(session, msg, Reason.DUPLICATE_CL_ORD_ID)
            return None
        record = cl_ord_ids.get(msg.orig_cl_ord_id)
        cl_ord_ids[msg.cl_ord_id] = None
        if record is None:  # another participant's ids are simply unknown here
            self._refuse(session, msg, Reason.UNKNOWN_ORDER)
        return record

    def _cancel(self, session: Session, msg: p.CancelOrder) -> None:
        record = self._target(session, msg)
        if record is not None:
            name = session.participant.name
            cmd = EngineCancel(record.instrument, record.order_id, name)
            self.entries.append((CANCEL, cmd, session, msg, record))

    def _amend(self, session: Session, msg: p.AmendOrder) -> None:
        record = self._target(session, msg)
        if record is not None:
            name = session.participant.name
            cmd = EngineAmend(record.instrument, record.order_id, name, msg.qty, msg.price)
            self.entries.append((AMEND, cmd, session, msg, record))

    def _mass_cancel(self, session: Session, msg: p.MassCancel) -> None:
        cl_ord_ids = session.participant.cl_ord_ids
        if msg.cl_ord_id in cl_ord_ids:
            return self._refuse(session, msg, Reason.DUPLICATE_CL_ORD_ID)
        cl_ord_ids[msg.cl_ord_id] = None
        side = Side(msg.side) if msg.side else None
        cmd = EngineMassCancel(session.participant.name, msg.instrument or None, side)
        self.entries.append((MASS_CANCEL, cmd, session, msg, None))
        return None

    def _mass_quote(self, session: Session, msg: p.MassQuote) -> None:
        instruments = {entry.instrument for entry in msg.entries}
        if len(instruments) != len(msg.entries):
            return self._refuse(session, msg, Reason.DUPLICATE_QUOTE_ENTRY)
        participant = session.participant
        mmp = participant.mmp
        if mmp is not None:
            if msg.mmp_reset:
                mmp.reset()
            elif mmp.frozen(self.clock()):
                return self._refuse(session, msg, Reason.MMP_FROZEN)
        name = participant.name
        quotes = participant.quotes
        ack = QuoteAck(session, msg.quote_id)
        for index, entry in enumerate(msg.entries):
            instrument = entry.instrument
            for side, price, qty in (
                (BUY, entry.bid_price, entry.bid_qty),
                (SELL, entry.ask_price, entry.ask_qty),
            ):
                record = quotes.get((instrument, side))
                live = record is not None and record.status < FILLED
                if not qty:
                    if not live:
                        continue
                    cmd = EngineCancel(instrument, record.order_id, name)
                elif live:
                    if price == record.price and qty == record.leaves:
                        continue
                    total = record.cum_qty + qty
                    cmd = EngineAmend(instrument, record.order_id, name, total, price)
                else:
                    self.last_order_id = order_id = self.last_order_id + 1
                    cmd = EngineNewOrder(instrument, order_id, name, side, qty, price)
                    record = OrderRecord(
                        order_id, 0, participant, session, instrument, side, price, qty, True
                    )
                    quotes[(instrument, side)] = record
                    self.orders[order_id] = record
                    session.orders[order_id] = record
                self.entries.append((QUOTE, cmd, session, ack, (index, side, record)))
                ack.pending += 1
        if not ack.pending:
            reply = p.MassQuoteAck(self.seq, self.clock(), ack.quote_id, [])
            self._reply(session.routing_id, reply)
        return None

    def _status(self, session: Session, msg: p.OrderStatus) -> None:
        self.entries.append((STATUS, None, session, msg, False))

    def _mass_status(self, session: Session, msg: p.MassStatus) -> None:
        self.entries.append((MASS_STATUS, None, session, msg, False))

    def _credit_status(self, session: Session, msg: p.CreditStatus) -> None:
        self.entries.append((CREDIT_STATUS, None, session, msg, False))

    # -- replies ----------------------------------------------------------------------------

    def _reply(self, rid: bytes, msg: p.Msg) -> None:
        """Queue a gateway reply behind the replies to this connection's earlier requests."""
        self.entries.append((REPLY, None, rid, msg, False))

    def _refuse(self, session: Session, msg, reason: Reason) -> None:
        """Reject a request before it reaches the core, in the reply type its sender expects."""
        kind = type(msg)
        now = self.clock()
        if kind is p.NewOrder:
            reply = p.ExecutionReport(
                self.seq, now, self._next_exec_id(), p.ExecType.REJECTED, OrdStatus.REJECTED,
                msg.cl_ord_id, 0, 0, msg.instrument, msg.side, msg.price, msg.qty, 0, 0, 0,
                reason=reason,
            )
        elif kind is p.CancelOrder or kind is p.AmendOrder:
            to = p.ResponseTo.CANCEL if kind is p.CancelOrder else p.ResponseTo.AMEND
            reply = p.CancelReject(
                self.seq, now, msg.cl_ord_id, msg.orig_cl_ord_id, 0, OrdStatus.REJECTED, to, reason
            )
        elif kind is p.MassCancel:
            reply = p.MassCancelReport(self.seq, now, msg.cl_ord_id, 0, reason)
        elif kind is p.MassQuote:
            reply = p.MassQuoteAck(self.seq, now, msg.quote_id, [], reason)
        elif kind is p.MassStatus:
            reply = p.MassStatusReport(self.seq, now, msg.request_id, 0, reason)
        elif kind is p.CreditStatus:
            reply = p.CreditStatusReport(self.seq, now, msg.request_id, None, reason)
        else:
            reply = _business_reject(msg, reason)
        self._reply(session.routing_id, reply)

    # -- session end ------------------------------------------------------------------------

    def _end_session(self, session: Session, reason: Reason, notify: bool) -> None:
        """Log the session off; cancel its orders unless it opted out of cancel-on-disconnect."""
        session.logged_on = False
        del self.sessions[session.routing_id]
        if session in session.participant.sessions:
            session.participant.sessions.remove(session)
        if notify:
            self._reply(session.routing_id, p.Logout(reason))
        if session.cancel_on_disconnect:
            name = session.participant.name
            for record in list(session.orders.values()):
                cmd = EngineCancel(record.instrument, record.order_id, name)
                self.entries.append((DISCONNECT, cmd, None, None, record))



def _origin(entry: tuple) -> Origin | None:
    """What the journal keeps of a batch entry's request, for :meth:`Gateway.replay`."""
    kind = entry[0]
    if kind in (NEW_ORDER, MASS_CANCEL):
        return Origin(kind, entry[3].cl_ord_id)
    if kind in (CANCEL, AMEND):
        msg = entry[3]
        return Origin(kind, msg.cl_ord_id, msg.orig_cl_ord_id)
    if kind == QUOTE:
        return Origin(kind, side=entry[4][1])
    return None


def _participant(name: str, config: ServerConfig) -> Participant:
    limits = config.mmp.get(name)
    return Participant(name, MarketMakerProtection(limits) if limits is not None else None)


def _admin_refusal(request: p.AnyAdminRequest, reason: Reason) -> p.Msg:
    """An admin request refused, in the reply type its sender waits for."""
    kind, request_id = type(request), request.request_id
    if kind is p.CreditQuery:
        return p.CreditReport(request_id, 0, [], [], reason)
    if kind is p.Watch:
        return p.Watching(request_id, 0, False, reason)
    if kind is p.SessionsQuery or kind is p.EndSessions:
        return p.SessionsReport(request_id, 0, [], reason)
    return p.AdminAck(request_id, 0, reason, [])


def _ignore(session: Session, msg: p.Heartbeat) -> None:
    """Any message refreshes the session's liveness; a heartbeat needs nothing else."""


def _business_reject(msg: p.Msg, reason: Reason) -> p.BusinessReject:
    tag = msg.__struct_config__.tag
    ref = getattr(msg, "cl_ord_id", 0) or getattr(msg, "quote_id", 0)
    return p.BusinessReject(tag, ref, reason)
