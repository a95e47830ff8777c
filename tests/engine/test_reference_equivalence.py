"""The engine against the reference book: random command streams, identical outcomes.

Each example draws an instrument (tick 1 or 5, lot 1 or 2, a band as wide as the price grid)
and a stream of commands from two or three participants on a small price grid around the
reference price: limit orders (GTC, DAY, IOC, FOK), market orders, post-only, icebergs, minimum
quantities, cancels, amends, mass cancels, end of day and, per test, self-trade prevention,
stops and reference price moves. Some commands are faulty on purpose (zero, negative or off-lot
quantities; zero, negative, off-tick or out-of-band prices; reused ids; wrong owners; ids
never accepted, or accepted and no longer live). After every command:

- the engine's events, reduced to the reference's facts (accepts, rejects with reason, trades
  as price, qty, buy id, sell id, dones with status, reason and leaves, amends, stop triggers),
  equal the reference's, in order;
- displayed depth per side, every resting order's (id, price, leaves, visible) in priority
  order (hence hidden iceberg quantity), the hidden totals and the pending stops are equal;
- ``core.check()`` passes, the top of book agrees with the levels, and the BookLevelChanged
  events describe every level the command changed, ending at its final state;
- quantity is conserved per order (filled + leaves + cancelled = ordered, checked against the
  trades' and dones' leaves and the live orders) and every trade price lies within both
  orders' limits.

A failing stream is cut down by :func:`minimize` (Hypothesis' own shrinker is switched off: on
80-command streams it took minutes) and reported as the concrete commands that still fail the
same way. Everything is derandomized, so a run is repeatable.

The determinism tests replay streams into fresh cores and compare the encoded events and the
fingerprints.
"""

from __future__ import annotations

import re
from collections import defaultdict

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engine.book import Book
from engine.codes import Reason
from engine.core import Core
from engine.messages import (
    AmendOrder,
    BookLevelChanged,
    CancelOrder,
    DoneStatus,
    EndTradingDay,
    MassCancel,
    NewOrder,
    OrderAccepted,
    OrderAmended,
    OrderDone,
    OrderRejected,
    OrderType,
    SetReferencePrice,
    Side,
    StopTriggered,
    StpMode,
    TimeInForce,
    Trade,
)
from tests.reference_book import RefBook
from tests.stubs import IID, encode, instrument, ts_of

BUY, SELL = Side.BUY, Side.SELL
GTC, DAY, IOC, FOK = TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK
PARTICIPANTS = ("A", "B", "C")
GRID = 3
"""Prices are drawn within this many ticks of the reference price."""

# (tick, lot, reference price, band_bp): bands 97..103 and 985..1015, as wide as the grid; the
# out-of-band faults and the reference price moves reach beyond them.
MARKETS = [(1, 1, 100, 300), (5, 1, 1000, 150), (1, 2, 100, 300)]

FAST = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    report_multiple_bugs=False,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # check_stream shrinks (see there)
)


# -- the stream -----------------------------------------------------------------------------


NEW_ORDER_FAULTS = [
    "qty_zero",
    "qty_negative",
    "qty_off_lot",
    "price_zero",
    "price_negative",
    "price_off_tick",
    "price_outside_band",
    "bad_peak",
    "bad_min_qty",
    "reused_id",
]


@st.composite
def intents(draw, stp: bool, stops: bool, crowd: int, immediate: bool):
    """One command, abstractly: ids, owners and prices are resolved against the book later.

    ``immediate`` crowds one or two prices with icebergs and fill-or-kill or minimum-quantity
    takers, where their counting meets self-trade prevention and peak refills.
    """
    kinds = ["limit"] * 28 + ["market"] * 2 + ["cancel"] * 4 + ["amend"] * 6
    kinds += ["mass_cancel", "end_of_day"]
    if stops:
        kinds += ["stop"] * 5 + ["stop_limit"] * 5 + ["set_reference"]
    tifs = [GTC, GTC, GTC, GTC, DAY, IOC, FOK]
    peaks = [0] * 5 + [1, 2, 3]
    min_lots = [0] * 12 + [1, 2, 4]
    grid = GRID
    if immediate:
        tifs, peaks, min_lots, grid = [GTC, GTC, IOC, FOK], [0, 1, 2], [0, 0, 3, 5], 1
    kind = draw(st.sampled_from(kinds))
    if kind in ("limit", "market", "stop", "stop_limit"):
        return (
            "new",
            kind,
            draw(st.sampled_from([BUY, SELL])),
            draw(st.sampled_from(PARTICIPANTS[:crowd])),
            draw(st.integers(1, 8)),  # lots
            draw(st.integers(-grid, grid)),  # price offset in ticks
            draw(st.sampled_from(tifs)),
            draw(st.sampled_from(peaks)),  # iceberg peak, lots
            draw(st.sampled_from(min_lots)),  # min qty, lots
            draw(st.sampled_from([False] * 6 + [True])),  # post only
            draw(st.sampled_from(list(StpMode))) if stp else StpMode.NONE,
            draw(st.integers(-1, GRID)),  # stop distance in ticks beyond the last price
            draw(st.sampled_from([None] * 3 * len(NEW_ORDER_FAULTS) + NEW_ORDER_FAULTS)),
        )
    if kind == "cancel":
        return ("cancel", draw(st.integers(0, 60)), draw(st.sampled_from(TARGET_FAULTS)))
    if kind == "amend":
        return (
            "amend",
            draw(st.integers(0, 60)),
            draw(st.sampled_from(TARGET_FAULTS)),
            draw(st.integers(-4, 3)),  # lots added to the current total
            draw(st.sampled_from([0, 0, 0, 1, -1, 2, -2])),  # ticks added to the price
        )
    if kind == "mass_cancel":
        side = draw(st.sampled_from([None, None, BUY, SELL]))
        return ("mass_cancel", draw(st.sampled_from(PARTICIPANTS[:crowd])), side)
    if kind == "set_reference":
        return ("set_reference", draw(st.integers(-1, 1)))
    return ("end_of_day",)


TARGET_FAULTS = [None] * 12 + [
    "not_live",
    "other_owner",
    "never_accepted",
    "qty_zero",
    "qty_off_lot",
]


def streams(
    stp: bool = False,
    stops: bool = False,
    crowd: int = 3,
    immediate: bool = False,
    max_size: int = 80,
):
    """A market and a stream of intents; ``crowd`` participants (fewer: more self-matches)."""
    return st.tuples(
        st.sampled_from(MARKETS),
        st.lists(intents(stp, stops, crowd, immediate), min_size=20, max_size=max_size),
    )


class Resolver:
    """Turns intents into concrete commands, reading ids and prices off the reference book."""

    def __init__(self, ref: RefBook, tick: int, lot: int) -> None:
        self.ref = ref
        self.tick = tick
        self.lot = lot
        self.next_id = 0
        self.owner: dict[int, str] = {}

    def _qty(self, lots: int, fault) -> int:
        if fault == "qty_zero":
            return 0
        if fault == "qty_negative":
            return -self.lot
        if fault == "qty_off_lot":
            return lots * self.lot + 1 if self.lot > 1 else 0
        return lots * self.lot

    def _price(self, offset: int, fault=None) -> int:
        price = self.ref.reference_price + offset * self.tick
        if fault == "price_zero":
            return 0
        if fault == "price_negative":
            return -self.tick
        if fault == "price_off_tick":
            return price + 1 if self.tick > 1 else 0
        if fault == "price_outside_band":
            return self.ref.band_high + self.tick if offset >= 0 else self.ref.band_low - self.tick
        return price

    def _target(self, index: int, fault) -> int:
        """A live order's id; on request one accepted but no longer live, or one never accepted
        (a rejected order's id below the last accepted one, or one beyond every id)."""
        if fault == "never_accepted":
            skipped = [i for i in range(1, self.next_id + 1) if i not in self.ref.accepted]
            return skipped[index % len(skipped)] if skipped and index % 2 else 10**9 + index
        if fault == "not_live":
            candidates = sorted(oid for oid in self.ref.accepted if self.ref.live(oid) is None)
        else:
            candidates = sorted(oid for oid in self.ref.accepted if self.ref.live(oid))
        if not candidates:
            return 10**9 + index
        return candidates[index % len(candidates)]

    def _owner(self, order_id: int, fault) -> str:
        owner = self.owner.get(order_id, "A")
        if fault == "other_owner":
            return PARTICIPANTS[(PARTICIPANTS.index(owner) + 1) % len(PARTICIPANTS)]
        return owner

    def command(self, intent: tuple):
        kind = intent[0]
        if kind == "new":
            return self._new_order(*intent[1:])
        if kind == "cancel":
            _, index, fault = intent
            order_id = self._target(index, fault)
            return CancelOrder(IID, order_id, self._owner(order_id, fault))
        if kind == "amend":
            _, index, fault, lots, ticks = intent
            order_id = self._target(index, fault)
            live = self.ref.live(order_id)
            if live is None:
                qty, price = self._qty(lots + 5, fault), self._price(ticks)
            else:
                qty = self._qty(max(0, live.total // self.lot + lots), fault)
                price = live.price + ticks * self.tick if live.price else ticks * self.tick
            return AmendOrder(IID, order_id, self._owner(order_id, fault), qty, price)
        if kind == "mass_cancel":
            return MassCancel(intent[1], IID, intent[2])
        if kind == "set_reference":
            return SetReferencePrice(IID, self.ref.reference_price + intent[1] * self.tick)
        return EndTradingDay(IID)

    def _new_order(
        self,
        kind,
        side,
        who,
        lots,
        offset,
        tif,
        peak,
        min_lots,
        post_only,
        stp,
        stop_offset,
        fault,
    ) -> NewOrder:
        if fault == "reused_id" and self.ref.accepted:
            order_id = max(self.ref.accepted) - (lots % 2)
        else:
            self.next_id += 1
            order_id = self.next_id
        self.owner.setdefault(order_id, who)
        stop_price = 0
        last = self.ref.last_price or self.ref.reference_price
        beyond = last + stop_offset * self.tick if side == BUY else last - stop_offset * self.tick
        if kind == "limit":
            order_type, price = OrderType.LIMIT, self._price(offset, fault)
        elif kind == "market":
            order_type, price = OrderType.MARKET, 0 if fault is None else self._price(0)
        elif kind == "stop":
            order_type, price = OrderType.STOP, 0
            stop_price = self._price(0, fault) if fault else beyond
        else:
            order_type, price = OrderType.STOP_LIMIT, self._price(offset, fault)
            stop_price = beyond
        iceberg_allowed = kind in ("limit", "stop_limit") and tif in (GTC, DAY)
        peak = min(peak, lots - 1) if iceberg_allowed else 0
        if kind == "market" or tif not in (GTC, DAY):
            post_only = False
        min_lots = min(min_lots, lots)
        if fault == "bad_peak":
            peak = lots
        if fault == "bad_min_qty":
            min_lots = lots + 1
        return NewOrder(
            IID,
            order_id,
            who,
            side,
            self._qty(lots, fault),
            price,
            order_type,
            tif,
            stop_price,
            peak * self.lot,
            min_lots * self.lot,
            post_only,
            stp,
        )


# -- what the engine said, as the reference says it ---------------------------------------


def facts(events: list) -> list[tuple]:
    out = []
    for e in events:
        if isinstance(e, OrderAccepted):
            out.append(("accepted", e.order_id))
        elif isinstance(e, OrderRejected):
            out.append(("rejected", e.order_id, e.reason))
        elif isinstance(e, Trade):
            out.append(("trade", e.price, e.qty, e.buy_order_id, e.sell_order_id))
        elif isinstance(e, OrderDone):
            out.append(("done", e.order_id, e.status, e.reason, e.leaves_qty))
        elif isinstance(e, OrderAmended):
            kept = e.kept_priority if e.reason == Reason.NONE else None
            out.append(("amended", e.order_id, e.price, e.leaves_qty, kept, e.reason))
        elif isinstance(e, StopTriggered):
            out.append(("triggered", e.order_id))
    return out


class Ledger:
    """Per-order quantity accounting from the events alone, checked against the book."""

    def __init__(self) -> None:
        self.ordered: dict[int, int] = {}
        self.filled: dict[int, int] = defaultdict(int)
        self.cancelled: dict[int, int] = defaultdict(int)
        self.limit: dict[int, int] = {}
        self.side: dict[int, Side] = {}
        self.done: set[int] = set()

    def open(self, oid: int) -> int:
        return self.ordered[oid] - self.filled[oid] - self.cancelled[oid]

    def _band_edge(self, book: Book, side: Side) -> int:
        return book.band_high if side == BUY else book.band_low

    def record(self, cmd, events: list, book: Book) -> None:
        for e in events:
            if isinstance(e, OrderAccepted):
                assert e.order_id not in self.ordered, f"order id {e.order_id} accepted twice"
                self.ordered[e.order_id] = e.qty
                self.side[e.order_id] = e.side
                # a market order's limit is the band edge; a STOP's is set when it triggers
                pending_market = e.order_type == OrderType.STOP
                self.limit[e.order_id] = e.price or (
                    0 if pending_market else self._band_edge(book, e.side)
                )
            elif isinstance(e, StopTriggered):
                if not self.limit[e.order_id]:
                    self.limit[e.order_id] = self._band_edge(book, self.side[e.order_id])
            elif isinstance(e, Trade):
                buy, sell = e.buy_order_id, e.sell_order_id
                assert e.qty > 0
                assert self.side[buy] == BUY and self.side[sell] == SELL
                assert e.price <= self.limit[buy], f"trade {e} above the buyer's limit"
                assert e.price >= self.limit[sell], f"trade {e} below the seller's limit"
                assert buy not in self.done and sell not in self.done
                self.filled[buy] += e.qty
                self.filled[sell] += e.qty
                assert e.buy_leaves == self.open(buy) >= 0, e
                assert e.sell_leaves == self.open(sell) >= 0, e
            elif isinstance(e, OrderDone):
                assert e.order_id not in self.done, f"order {e.order_id} done twice"
                if e.status == DoneStatus.FILLED:
                    assert e.leaves_qty == 0
                else:
                    self.cancelled[e.order_id] += e.leaves_qty
                assert self.open(e.order_id) == 0, f"{e}: {self.open(e.order_id)} unaccounted"
                self.done.add(e.order_id)
            elif isinstance(e, OrderAmended):
                if e.reason == Reason.SELF_TRADE_PREVENTED:
                    shrink = self.open(e.order_id) - e.leaves_qty
                    assert shrink > 0, e
                    self.cancelled[e.order_id] += shrink
                else:
                    assert isinstance(cmd, AmendOrder) and cmd.order_id == e.order_id
                    assert e.leaves_qty == cmd.qty - self.filled[e.order_id]
                    self.ordered[e.order_id] = self.cancelled[e.order_id] + cmd.qty
                    if e.price:
                        self.limit[e.order_id] = e.price
                assert self.open(e.order_id) == e.leaves_qty > 0
        for oid, order in book.orders.items():
            assert oid not in self.done
            assert order.leaves == self.open(oid), f"order {oid}: leaves {order.leaves}"
            assert order.filled == self.filled[oid]
            assert order.filled + order.leaves + self.cancelled[oid] == self.ordered[oid]
        for oid in self.ordered:
            if oid not in book.orders:
                assert oid in self.done, f"order {oid} vanished without an OrderDone"
                assert self.filled[oid] + self.cancelled[oid] == self.ordered[oid]


def check_level_events(before: dict, book: Book, events: list) -> None:
    """Each level the command changed has an event, and its last event is its final state."""
    after = {
        (side, price): (qty, count)
        for side in (BUY, SELL)
        for price, qty, count in book.depth(side)
    }
    last = {}
    for e in events:
        if isinstance(e, BookLevelChanged):
            last[(e.side, e.price)] = (e.qty, e.orders)
    for key, state in last.items():
        assert after.get(key, (0, 0)) == state, f"level {key}: event {state}, book {after}"
    for key in set(before) | set(after):
        if before.get(key) != after.get(key):
            assert key in last, (
                f"level {key} changed {before.get(key)} -> {after.get(key)} silently"
            )


def check_top_of_book(book: Book) -> None:
    bids, asks = book.depth(BUY), book.depth(SELL)
    assert book.best_bid() == (bids[0][0] if bids else None)
    assert book.best_ask() == (asks[0][0] if asks else None)
    if book.bids:  # the kept best key agrees with the smallest key of the plain dict
        assert book.best_bid() == -min(dict.keys(book.bids))
    if book.asks:
        assert book.best_ask() == min(dict.keys(book.asks))


def compare_books(book: Book, ref: RefBook) -> None:
    for side in (BUY, SELL):
        assert book.depth(side) == ref.levels(side), f"depth of side {side}"
        engine_queue = [(o.order_id, o.price, o.leaves, o.visible) for o in book.resting(side)]
        assert engine_queue == ref.queue(side), f"queue of side {side}"
        hidden = sum(o.leaves - o.visible for o in book.resting(side))
        assert hidden == ref.hidden(side)
    engine_stops = sorted(
        (o.order_id, int(o.side), o.stop_price, o.leaves) for o in book.pending_stops()
    )
    assert engine_stops == ref.pending()


def market_for(spec: tuple) -> tuple[Core, RefBook, int, int]:
    tick, lot, reference, band_bp = spec
    core = Core(
        [instrument(tick_size=tick, lot_size=lot, reference_price=reference, band_bp=band_bp)]
    )
    book = core.book(IID)
    ref = RefBook(tick, lot, book.reference_price, book.band_low, book.band_high)
    return core, ref, tick, lot


def _gist(fact: tuple | None) -> tuple | None:
    """A fact without its ids and quantities: what kind of disagreement this is."""
    if fact is None:
        return None
    kind = fact[0]
    if kind == "rejected":
        return (kind, fact[2])
    if kind == "done":
        return (kind, fact[2], fact[3])
    if kind == "amended":
        return (kind, fact[5])
    return (kind,)


def signature(failure: Exception) -> str:
    """The kind of a failure, so that cutting a stream down keeps the same disagreement."""
    first_line = str(failure).splitlines()[0] if str(failure) else ""
    return type(failure).__name__ + re.sub(r"\d+", "#", first_line)


def check_step(core: Core, ref: RefBook, ledger: Ledger, seq: int, cmd) -> None:
    """Apply one command to both books and check everything the module docstring lists."""
    book = core.book(IID)
    before = {
        (side, price): (qty, count)
        for side in (BUY, SELL)
        for price, qty, count in book.depth(side)
    }
    events = core.apply(cmd, seq, ts_of(seq))
    assert all(e.seq == seq and e.ts == ts_of(seq) for e in events), "seq/ts not carried"
    if isinstance(cmd, SetReferencePrice):  # the band formula has its own unit tests
        ref.set_reference(book.reference_price, book.band_low, book.band_high)
        expected = []
    else:
        expected = ref.apply(cmd)
    got = facts(events)
    if got != expected:
        first = next(i for i in range(len(got) + 1) if got[i : i + 1] != expected[i : i + 1])
        engine_fact = got[first] if first < len(got) else None
        ref_fact = expected[first] if first < len(expected) else None
        raise AssertionError(
            f"engine {_gist(engine_fact)} != reference {_gist(ref_fact)}\n"
            f"command {seq}: {cmd!r}\nengine:    {got}\nreference: {expected}"
        )
    core.check()
    check_top_of_book(book)
    compare_books(book, ref)
    check_level_events(before, book, events)
    ledger.record(cmd, events, book)


def run_checked(spec: tuple, intents=(), commands=(), applied: list | None = None) -> None:
    """Run intents (resolved on the fly) or concrete commands through both books, checked."""
    core, ref, tick, lot = market_for(spec)
    resolver = Resolver(ref, tick, lot)
    ledger = Ledger()
    applied = [] if applied is None else applied
    concrete = (resolver.command(intent) for intent in intents) if intents else iter(commands)
    for seq, cmd in enumerate(concrete, start=1):
        applied.append(cmd)
        check_step(core, ref, ledger, seq, cmd)


def first_failure(spec: tuple, commands: list) -> Exception | None:
    try:
        run_checked(spec, commands=commands)
    except Exception as failure:  # any exception is a disagreement or a broken invariant
        return failure
    return None


def minimize(spec: tuple, commands: list, passes: int = 3) -> list:
    """Greedily drop commands while the stream still fails the same way; cheaper than
    Hypothesis' shrinker on long streams, and the commands shown are concrete."""
    current = list(commands)
    wanted = signature(first_failure(spec, current))
    for _ in range(passes):
        before = len(current)
        for i in reversed(range(len(current))):
            candidate = current[:i] + current[i + 1 :]
            failure = first_failure(spec, candidate)
            if failure is not None and signature(failure) == wanted:
                current = candidate
        if len(current) == before:
            break
    return current


def check_stream(spec: tuple, stream: list) -> None:
    """Check one stream; on a failure, report a small concrete stream that still fails."""
    applied: list = []
    try:
        run_checked(spec, intents=stream, applied=applied)
    except Exception:
        small = minimize(spec, applied)
        transcript = "\n".join(f"  {seq}: {cmd!r}" for seq, cmd in enumerate(small, start=1))
        failure = first_failure(spec, small)
        raise AssertionError(
            f"engine and reference disagree on market {spec} after {len(small)} commands "
            f"(cut down from {len(applied)}):\n{transcript}\n{type(failure).__name__}: {failure}"
        ) from None


# -- the properties ---------------------------------------------------------------------------


@FAST
@given(streams())
def test_engine_matches_reference_book(market_and_stream):
    check_stream(*market_and_stream)


@FAST
@given(streams(stp=True, crowd=2))
def test_engine_matches_reference_book_with_self_trade_prevention(market_and_stream):
    check_stream(*market_and_stream)


@FAST
@given(streams(stp=True, crowd=2, immediate=True))
def test_engine_matches_reference_book_for_icebergs_and_immediate_orders_with_stp(
    market_and_stream,
):
    check_stream(*market_and_stream)


@FAST
@given(streams(stops=True))
def test_engine_matches_reference_book_with_stops_and_band_moves(market_and_stream):
    check_stream(*market_and_stream)


# -- determinism -----------------------------------------------------------------------------


def replay(spec: tuple, stream: list) -> tuple[list[bytes], str, Core]:
    """Apply a stream to a fresh core; the encoded events per command and the fingerprint."""
    core, ref, tick, lot = market_for(spec)
    resolver = Resolver(ref, tick, lot)
    book = core.book(IID)
    encoded = []
    for seq, intent in enumerate(stream, start=1):
        cmd = resolver.command(intent)
        events = core.apply(cmd, seq, ts_of(seq))
        if isinstance(cmd, SetReferencePrice):
            ref.set_reference(book.reference_price, book.band_low, book.band_high)
        else:
            ref.apply(cmd)  # keeps the resolver's view of the book current
        encoded.append(encode(events))
    return encoded, core.fingerprint(), core


@settings(FAST, max_examples=60)
@given(streams(stp=True, stops=True, max_size=30))
def test_replaying_a_stream_gives_identical_events_and_fingerprint(market_and_stream):
    spec, stream = market_and_stream
    first_events, first_print, _ = replay(spec, stream)
    second_events, second_print, _ = replay(spec, stream)
    assert first_events == second_events
    assert first_print == second_print


@settings(FAST, max_examples=60)
@given(streams(stp=True, stops=True, max_size=30))
def test_a_different_stream_gives_a_different_fingerprint(market_and_stream):
    spec, stream = market_and_stream
    _, _, core_a = replay(spec, stream)
    _, _, core_b = replay(spec, stream)
    seq = core_a.last_seq + 1
    book = core_a.book(IID)
    for core, qty in ((core_a, 1_000), (core_b, 1_002)):
        lot = book.instrument.lot_size
        bid = NewOrder(IID, 10**10, "Z", BUY, qty * lot, book.band_low)
        core.apply(bid, seq, ts_of(seq))
    assert core_a.fingerprint() != core_b.fingerprint()


def test_the_fingerprint_covers_hidden_iceberg_quantity():
    displayed_alike = []
    for qty in (10, 11):
        core = Core([instrument()])
        core.apply(NewOrder(IID, 1, "A", SELL, qty, 101, display_qty=2), 1, ts_of(1))
        assert core.book(IID).depth(SELL) == [(101, 2, 1)]
        displayed_alike.append(core.fingerprint())
    assert displayed_alike[0] != displayed_alike[1]


def test_the_fingerprint_is_stable_for_the_same_state():
    core = Core([instrument()])
    core.apply(NewOrder(IID, 1, "A", SELL, 10, 101), 1, ts_of(1))
    assert core.fingerprint() == core.fingerprint()
    assert len(core.fingerprint()) == 64
