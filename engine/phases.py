"""Trading phases and auctions as core commands: phase changes, uncrosses, English auctions.

Public type: :class:`PhaseControl`, a mixin of :class:`engine.core.Core` that holds the
handlers of :class:`~engine.messages.SetPhase`, :class:`~engine.messages.Uncross` and
:class:`~engine.messages.StartEnglishAuction`, and what the timer and the order handlers call
when a book is in a call. The state lives in the core (books, matcher); the arithmetic in
:mod:`engine.auction` and :mod:`engine.uncross`.
"""

from __future__ import annotations

import msgspec

from engine.auction import close_english, execute_uncross, indicative_event
from engine.book import Book, EnglishTerms
from engine.codes import Reason
from engine.instruments import TradingRegime
from engine.messages import (
    AUCTION_ONLY,
    CALL_PHASES,
    AuctionExtended,
    AuctionUncrossed,
    DoneStatus,
    Phase,
    PhaseChanged,
    ReferencePriceChanged,
    Request,
    SetPhase,
    Side,
    StartEnglishAuction,
    Uncross,
)

CONTINUOUS = Phase.CONTINUOUS
CANCELLED = DoneStatus.CANCELLED
ENGLISH = Phase.ENGLISH_AUCTION
SETTABLE_PHASES = {
    TradingRegime.CONTINUOUS: frozenset(
        {Phase.CLOSED, Phase.CONTINUOUS, Phase.HALTED, Phase.PRE_OPEN_CALL, Phase.CLOSING_CALL}
    ),
    TradingRegime.CALL_AUCTION: frozenset({Phase.CLOSED, Phase.CALL, Phase.HALTED}),
    TradingRegime.ENGLISH_AUCTION: frozenset({Phase.CLOSED, Phase.HALTED}),
    TradingRegime.RFQ: frozenset({Phase.CLOSED, Phase.HALTED}),
}
"""Phases an operator may set per regime; the engine itself enters interruptions,
uncrosses and English auctions."""
UNCROSS_PHASE = {
    Phase.PRE_OPEN_CALL: Phase.OPENING_UNCROSS,
    Phase.VOLATILITY_INTERRUPTION: Phase.OPENING_UNCROSS,
    Phase.CLOSING_CALL: Phase.CLOSING_UNCROSS,
}
AFTER_UNCROSS = {
    Phase.PRE_OPEN_CALL: Phase.CONTINUOUS,
    Phase.VOLATILITY_INTERRUPTION: Phase.CONTINUOUS,
    Phase.CLOSING_CALL: Phase.CLOSED,
    Phase.CALL: Phase.CALL,
}
"""Where each call goes after its uncross (a call-auction-only book stays in its call)."""


class PhaseControl:
    """Phase and auction commands of the core; ``Core`` provides ``books``, ``matcher``,
    ``_reject`` and ``_remove_all``."""

    def _set_phase(self, cmd: SetPhase, seq: int, ts: int, out: list) -> None:
        book = self.books.get(cmd.instrument)
        if book is None:
            self._reject(cmd, Request.ADMIN, Reason.UNKNOWN_INSTRUMENT, seq, ts, out)
            return
        if cmd.phase not in SETTABLE_PHASES[book.instrument.regime]:
            self._reject(cmd, Request.ADMIN, Reason.REGIME_VIOLATION, seq, ts, out)
            return
        if cmd.phase == CONTINUOUS and (book.crossed() or book.market_orders_waiting()):
            self._reject(cmd, Request.ADMIN, Reason.UNCROSS_REQUIRED, seq, ts, out)
            return
        book.phase = cmd.phase
        book.phase_end_ts = 0
        out.append(PhaseChanged(seq, ts, cmd.instrument, cmd.phase))
        if cmd.phase in CALL_PHASES:
            self._publish_indicative(book, seq, ts, out)

    # -- auctions -----------------------------------------------------------------------

    def _publish_indicative(self, book: Book, seq: int, ts: int, out: list) -> None:
        out.append(indicative_event(book, seq, ts))

    def _uncross(self, cmd: Uncross, seq: int, ts: int, out: list) -> None:
        book = self.books.get(cmd.instrument)
        if book is None:
            self._reject(cmd, Request.ADMIN, Reason.UNKNOWN_INSTRUMENT, seq, ts, out)
        elif book.phase not in AFTER_UNCROSS:
            self._reject(cmd, Request.ADMIN, Reason.NOT_IN_CALL, seq, ts, out)
        else:
            self._run_uncross(book, seq, ts, out)

    def _run_uncross(self, book: Book, seq: int, ts: int, out: list) -> None:
        """Execute the call: trades at one price, auction-only and market remainders
        cancelled, the auction price becomes the reference, then the phase that follows."""
        iid = book.instrument_id
        call = book.phase
        if call in UNCROSS_PHASE:
            book.phase = UNCROSS_PHASE[call]
            out.append(PhaseChanged(seq, ts, iid, book.phase))
        result, trades = execute_uncross(book, self.matcher, seq, ts, out)
        leftovers = [
            o
            for o in book.orders.values()
            if o.tif in AUCTION_ONLY or (not o.price and not o.stop_price)
        ]
        self._remove_all(book, leftovers, CANCELLED, Reason.AUCTION_REMAINDER, seq, ts, out)
        self._auction_summary(book, result, trades, seq, ts, out)
        book.phase = AFTER_UNCROSS[call]
        book.phase_end_ts = 0
        out.append(PhaseChanged(seq, ts, iid, book.phase))
        if book.phase == CONTINUOUS and trades:
            self.matcher.trade_low = self.matcher.trade_high = result.price
            self.matcher.release_stops(book, seq, ts, out)
        elif book.phase in CALL_PHASES:
            self._publish_indicative(book, seq, ts, out)

    def _auction_summary(self, book: Book, result, trades: int, seq: int, ts: int, out: list):
        """Publish the auction's outcome; a price that traded becomes the reference price."""
        side = Side(result.surplus_side) if result.surplus_side else None
        out.append(
            AuctionUncrossed(
                seq,
                ts,
                book.instrument_id,
                result.price,
                result.volume,
                side,
                result.surplus,
                trades,
            )
        )
        if trades:
            book.set_reference_price(result.price)
            out.append(
                ReferencePriceChanged(
                    seq, ts, book.instrument_id, book.reference_price, book.band_low, book.band_high
                )
            )

    def _start_english_auction(self, cmd: StartEnglishAuction, seq: int, ts: int, out: list):
        book = self.books.get(cmd.instrument)
        if book is None:
            reason = Reason.UNKNOWN_INSTRUMENT
        elif book.instrument.regime != TradingRegime.ENGLISH_AUCTION:
            reason = Reason.REGIME_VIOLATION
        elif book.phase != Phase.CLOSED:
            reason = Reason.NOT_IN_CALL
        elif cmd.end_ts <= ts or min(cmd.extension_window_ns, cmd.extension_ns) < 0:
            reason = Reason.INVALID_EXPIRY
        else:
            tick = book.instrument.tick_size
            ok = cmd.start_price > 0 and cmd.min_increment > 0
            reason = Reason.NONE if ok else Reason.INVALID_PRICE
            if ok and (cmd.start_price % tick or cmd.min_increment % tick):
                reason = Reason.PRICE_OFF_TICK
        if reason:
            self._reject(cmd, Request.ADMIN, reason, seq, ts, out)
            return
        book.english = EnglishTerms(
            cmd.start_price,
            cmd.min_increment,
            cmd.end_ts,
            cmd.extension_window_ns,
            cmd.extension_ns,
        )
        book.phase, book.phase_end_ts = ENGLISH, cmd.end_ts
        out.append(PhaseChanged(seq, ts, book.instrument_id, ENGLISH, cmd.end_ts))

    def _extend_english(self, book: Book, seq: int, ts: int, out: list) -> None:
        """Anti-sniping: a bid in the auction's last moments pushes its end later."""
        terms = book.english
        if terms.extension_ns and ts >= book.phase_end_ts - terms.extension_window_ns:
            end = max(book.phase_end_ts, ts + terms.extension_ns)
            if end != book.phase_end_ts:
                book.phase_end_ts = end
                book.english = msgspec.structs.replace(terms, end_ts=end)
                out.append(AuctionExtended(seq, ts, book.instrument_id, end))

    def _close_english(self, book: Book, seq: int, ts: int, out: list) -> None:
        """The highest bid wins at its price if it meets the reserve; every other order ends."""
        result, trades = close_english(book, self.matcher, seq, ts, out)
        reason = Reason.AUCTION_LOST if trades else Reason.RESERVE_NOT_MET
        self._remove_all(book, list(book.orders.values()), CANCELLED, reason, seq, ts, out)
        self._auction_summary(book, result, trades, seq, ts, out)
        book.phase, book.phase_end_ts, book.english = Phase.CLOSED, 0, None
        out.append(PhaseChanged(seq, ts, book.instrument_id, book.phase))
