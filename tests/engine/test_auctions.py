"""Call auctions, trading phases and regimes through the core: vectors, interruptions, English.

The price-determination ladder itself is checked against brute force in test_uncross.py;
these tests drive whole commands (SetPhase, NewOrder, Uncross, Tick) and assert the events.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.codes import Reason
from engine.instruments import AuctionRule, InstrumentKind, TradingRegime
from engine.messages import (
    AuctionExtended,
    AuctionIndicative,
    AuctionUncrossed,
    BookLevelChanged,
    DoneStatus,
    OrderType,
    Phase,
    PhaseChanged,
    SetPhase,
    SetReferencePrice,
    StartEnglishAuction,
    Tick,
    TimeInForce,
    Uncross,
)
from tests.stubs import (
    BUY,
    IID,
    SELL,
    buy,
    cancel,
    dones,
    instrument,
    make_core,
    market,
    new_order,
    of_type,
    rejects,
    run,
    sell,
    trades,
)


def call_core(reference: int = 100, **overrides):
    """A continuous-regime core moved into its pre-open call."""
    core = make_core(instrument(reference_price=reference, band_bp=5000, **overrides))
    run(core, SetPhase(IID, Phase.PRE_OPEN_CALL))
    return core


def uncross_at(core, reference: int | None = None) -> list:
    if reference is not None:
        run(core, SetReferencePrice(IID, reference))
    return run(core, Uncross(IID))


# -- worked vectors ---------------------------------------------------------------------------


def test_uncross_when_vector_a_then_101_for_250_with_bid_surplus_50():
    core = call_core()
    events = run(
        core,
        buy(1, 100, 102, "B1"),
        buy(2, 200, 101, "B2"),
        buy(3, 100, 100, "B3"),
        sell(4, 150, 99, "S1"),
        sell(5, 100, 101, "S2"),
        sell(6, 200, 103, "S3"),
    )
    last = of_type(events, AuctionIndicative)[-1]
    assert (last.price, last.volume, last.surplus_side, last.surplus) == (101, 250, BUY, 50)
    events = uncross_at(core)
    assert [
        (t.price, t.qty, t.buy_order_id, t.sell_order_id, t.aggressor) for t in trades(events)
    ] == [(101, 100, 1, 4, None), (101, 50, 2, 4, None), (101, 100, 2, 5, None)]
    summary = of_type(events, AuctionUncrossed)[0]
    assert (summary.price, summary.volume, summary.surplus, summary.trades) == (101, 250, 50, 3)
    book = core.book(IID)
    assert book.phase == Phase.CONTINUOUS and book.reference_price == 101
    assert book.depth(BUY) == [(101, 50, 1), (100, 100, 1)]
    assert book.depth(SELL) == [(103, 200, 1)]
    core.check()


def test_uncross_when_vector_b_then_xetra_takes_the_highest_pressure_price():
    core = call_core()
    run(core, buy(1, 300, 105), sell(2, 100, 100, "S"), sell(3, 100, 102, "S"))
    events = uncross_at(core)
    assert {t.price for t in trades(events)} == {105}
    assert sum(t.qty for t in trades(events)) == 200


def test_uncross_when_vector_b_under_euronext_then_nearest_the_reference():
    core = call_core(auction_rule=AuctionRule.EURONEXT)
    run(core, buy(1, 300, 105), sell(2, 100, 100, "S"), sell(3, 100, 102, "S"))
    events = uncross_at(core, reference=101)
    assert {t.price for t in trades(events)} == {102}


def test_uncross_when_vector_b_under_sse_then_midpoint_rounded_toward_reference():
    core = call_core(auction_rule=AuctionRule.SSE)
    run(core, buy(1, 300, 105), sell(2, 100, 100, "S"), sell(3, 100, 102, "S"))
    events = uncross_at(core, reference=101)
    assert {t.price for t in trades(events)} == {103}


def test_uncross_when_vector_c_then_reference_clamped_into_the_surplus_range():
    for reference, expected in ((103, 103), (110, 105), (90, 101)):
        core = call_core(reference=reference)
        run(
            core, buy(1, 100, 106), buy(2, 100, 101), sell(3, 100, 100, "S"), sell(4, 100, 105, "S")
        )
        events = run(core, Uncross(IID))
        assert {t.price for t in trades(events)} == {expected}, reference


def test_uncross_when_vector_d_market_orders_only_then_reference_price():
    core = call_core(reference=100)
    run(core, market(1, BUY, 100), market(2, SELL, 50, "S"))
    events = run(core, Uncross(IID))
    assert [(t.price, t.qty) for t in trades(events)] == [(100, 50)]
    unfilled = [d for d in dones(events) if d.reason == Reason.AUCTION_REMAINDER]
    assert [(d.order_id, d.leaves_qty) for d in unfilled] == [(1, 50)]
    assert not core.book(IID).market_orders_waiting()


# -- phases and order rules ---------------------------------------------------------------


def test_call_when_orders_cross_then_nothing_trades_until_the_uncross():
    core = call_core()
    events = run(core, buy(1, 10, 105), sell(2, 10, 95, "S"))
    assert not trades(events) and core.book(IID).crossed()
    core.check()


def test_call_when_ioc_or_min_qty_then_rejected_not_allowed_in_phase():
    core = call_core()
    events = run(core, buy(1, 10, 100, tif=TimeInForce.IOC), buy(2, 10, 100, min_qty=5))
    assert [r.reason for r in rejects(events)] == [Reason.NOT_ALLOWED_IN_PHASE] * 2


def test_auction_only_orders_when_in_continuous_then_rejected():
    core = make_core()
    events = run(core, buy(1, 10, 100, tif=TimeInForce.GFA))
    assert [r.reason for r in rejects(events)] == [Reason.NOT_ALLOWED_IN_PHASE]


def test_at_close_when_pre_open_then_rejected_and_at_open_accepted():
    core = call_core()
    events = run(
        core, buy(1, 10, 100, tif=TimeInForce.AT_CLOSE), buy(2, 10, 100, tif=TimeInForce.AT_OPEN)
    )
    assert [r.order_id for r in rejects(events)] == [1]


def test_uncross_when_auction_only_remainder_then_cancelled_and_limit_rests():
    core = call_core()
    run(core, buy(1, 10, 100, tif=TimeInForce.AT_OPEN), buy(2, 10, 99, "B2"), sell(3, 5, 100, "S"))
    events = run(core, Uncross(IID))
    assert [(t.qty, t.buy_order_id) for t in trades(events)] == [(5, 1)]
    assert [(d.order_id, d.reason) for d in dones(events) if d.reason] == [
        (1, Reason.AUCTION_REMAINDER)
    ]
    assert core.book(IID).depth(BUY) == [(99, 10, 1)]


def test_iceberg_when_in_call_then_counts_with_full_size():
    core = call_core()
    run(core, buy(1, 100, 100, display_qty=10), sell(2, 60, 100, "S"))
    events = run(core, Uncross(IID))
    assert sum(t.qty for t in trades(events)) == 60
    assert core.book(IID).depth(BUY) == [(100, 10, 1)]
    assert core.book(IID).orders[1].leaves == 40
    core.check()


def test_set_phase_continuous_when_book_crossed_then_uncross_required():
    core = call_core()
    run(core, buy(1, 10, 105), sell(2, 10, 95, "S"))
    events = run(core, SetPhase(IID, Phase.CONTINUOUS))
    assert [r.reason for r in rejects(events)] == [Reason.UNCROSS_REQUIRED]


def test_closing_call_when_uncrossed_then_book_closes():
    core = make_core()
    run(core, SetPhase(IID, Phase.CLOSING_CALL), buy(1, 10, 100), sell(2, 10, 100, "S"))
    events = run(core, Uncross(IID))
    phases = [e.phase for e in of_type(events, PhaseChanged)]
    assert phases == [Phase.CLOSING_UNCROSS, Phase.CLOSED]
    assert len(trades(events)) == 1


def test_uncross_when_not_in_a_call_then_rejected():
    events = run(make_core(), Uncross(IID))
    assert [r.reason for r in rejects(events)] == [Reason.NOT_IN_CALL]


# -- regimes ------------------------------------------------------------------------------


def test_call_auction_regime_when_uncrossed_then_stays_in_its_call():
    core = make_core(instrument(regime=TradingRegime.CALL_AUCTION))
    assert core.book(IID).phase == Phase.CALL
    run(core, buy(1, 10, 100), sell(2, 10, 100, "S"))
    events = run(core, Uncross(IID))
    assert len(trades(events)) == 1 and core.book(IID).phase == Phase.CALL
    events = run(core, SetPhase(IID, Phase.CONTINUOUS))
    assert [r.reason for r in rejects(events)] == [Reason.REGIME_VIOLATION]


def test_rfq_regime_when_order_sent_then_regime_violation():
    core = make_core(instrument(regime=TradingRegime.RFQ))
    events = run(core, buy(1, 10, 100))
    assert [r.reason for r in rejects(events)] == [Reason.REGIME_VIOLATION]


# -- volatility interruption --------------------------------------------------------------


def test_sweep_when_it_would_leave_the_dynamic_band_then_volatility_interruption():
    core = make_core(instrument(dynamic_band_bp=500, vi_duration_ns=10_000))
    run(core, sell(1, 10, 100, "S"), sell(2, 10, 110, "S"))
    events = run(core, buy(3, 20, 110, "B"), ts=50_000)
    assert [(t.price, t.qty) for t in trades(events)] == [(100, 10)]
    vi = of_type(events, PhaseChanged)[-1]
    assert (vi.phase, vi.end_ts) == (Phase.VOLATILITY_INTERRUPTION, 60_000)
    book = core.book(IID)
    assert book.depth(BUY) == [(110, 10, 1)] and book.crossed()
    assert of_type(events, AuctionIndicative)[-1].price == 110
    assert core.next_deadline() == 60_000  # the server's next clock tick is due then
    events = run(core, Tick(), ts=59_999)
    assert book.phase == Phase.VOLATILITY_INTERRUPTION
    events = run(core, Tick(), ts=60_000)
    assert [(t.price, t.qty) for t in trades(events)] == [(110, 10)]
    assert book.phase == Phase.CONTINUOUS and core.next_deadline() is None
    core.check()


def test_ioc_when_it_reaches_the_dynamic_band_then_remainder_cancelled_into_interruption():
    core = make_core(instrument(dynamic_band_bp=500))
    run(core, sell(1, 10, 100, "S"), sell(2, 10, 110, "S"))
    events = run(core, buy(3, 20, 110, "B", tif=TimeInForce.IOC))
    assert [d.reason for d in dones(events) if d.order_id == 3] == [Reason.IOC_REMAINDER]
    assert core.book(IID).phase == Phase.VOLATILITY_INTERRUPTION


# -- English auction ----------------------------------------------------------------------


def english_core():
    lot = instrument(
        kind=InstrumentKind.ASSIGNMENT_LOT,
        regime=TradingRegime.ENGLISH_AUCTION,
        reference_price=1000,
        band_bp=9000,
        tick_size=10,
    )
    core = make_core(lot)
    run(
        core,
        StartEnglishAuction(
            IID, 500, 50, end_ts=1_000_000, extension_window_ns=100_000, extension_ns=200_000
        ),
    )
    return core


def test_english_auction_when_bids_rise_then_highest_bid_wins_at_its_price():
    core = english_core()
    run(
        core,
        sell(1, 1, 800, "SELLER"),
        buy(2, 1, 600, "A"),
        buy(3, 1, 700, "B"),
        buy(4, 1, 850, "A"),
    )
    events = run(core, Tick(), ts=1_000_000)
    assert [(t.price, t.buyer, t.seller) for t in trades(events)] == [(850, "A", "SELLER")]
    lost = [d.order_id for d in dones(events) if d.reason == Reason.AUCTION_LOST]
    assert lost == [2, 3]
    assert core.book(IID).phase == Phase.CLOSED and not core.book(IID).orders


def test_english_auction_when_bid_below_increment_then_rejected():
    core = english_core()
    events = run(core, buy(1, 1, 490, "A"), buy(2, 1, 600, "A"), buy(3, 1, 640, "B"))
    assert [(r.order_id, r.reason) for r in rejects(events)] == [
        (1, Reason.BID_TOO_LOW),
        (3, Reason.BID_TOO_LOW),
    ]


def test_english_auction_when_bid_in_last_moments_then_end_extended():
    core = english_core()
    events = run(core, buy(1, 1, 600, "A"), ts=950_000)
    assert [e.end_ts for e in of_type(events, AuctionExtended)] == [1_150_000]
    assert not trades(run(core, Tick(), ts=1_000_000))
    assert core.book(IID).phase == Phase.ENGLISH_AUCTION


def test_english_auction_when_reserve_not_met_then_nothing_sells():
    core = english_core()
    run(core, sell(1, 1, 900, "SELLER"), buy(2, 1, 600, "A"))
    events = run(core, Tick(), ts=2_000_000)
    assert not trades(events)
    assert {d.reason for d in dones(events)} == {Reason.RESERVE_NOT_MET}


def test_english_auction_when_bidder_cancels_then_binding():
    core = english_core()
    run(core, buy(1, 1, 600, "A"))
    events = run(core, cancel(1, "A"))
    assert [r.reason for r in rejects(events)] == [Reason.AUCTION_BINDING]


def test_english_auction_when_market_or_two_lots_then_regime_violation():
    core = english_core()
    events = run(core, buy(1, 2, 600, "A"), market(2, BUY, 1, "A"))
    assert [r.reason for r in rejects(events)] == [Reason.REGIME_VIOLATION] * 2


# -- properties ---------------------------------------------------------------------------

orders = st.lists(
    st.tuples(
        st.sampled_from([BUY, SELL]), st.integers(1, 30), st.integers(90, 110), st.booleans()
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(orders, st.integers(90, 110), st.sampled_from(list(AuctionRule)))
def test_uncross_when_random_call_then_one_price_max_volume_and_uncrossed_book(
    entries, reference, rule
):
    core = call_core(reference=reference, auction_rule=rule)
    for oid, (side, qty, price, is_market) in enumerate(entries, 1):
        cmd = (
            market(oid, side, qty, f"P{oid % 3}")
            if is_market
            else (buy if side == BUY else sell)(oid, qty, price, f"P{oid % 3}")
        )
        run(core, cmd)
    limits = [(s, q, p) for s, q, p, m in entries if not m]
    market_buy = sum(q for s, q, _, m in entries if m and s == BUY)
    market_sell = sum(q for s, q, _, m in entries if m and s == SELL)

    def volume(p):
        bought = market_buy + sum(q for s, q, lp in limits if s == BUY and lp >= p)
        sold = market_sell + sum(q for s, q, lp in limits if s == SELL and lp <= p)
        return min(bought, sold)

    candidates = {p for _, _, p in limits} | {reference}
    best_volume = max(volume(p) for p in candidates)
    events = run(core, Uncross(IID))
    executed = trades(events)
    assert len({t.price for t in executed}) <= 1
    assert sum(t.qty for t in executed) == best_volume
    if executed:
        assert volume(executed[0].price) == best_volume
    assert core.book(IID).phase == Phase.CONTINUOUS
    core.check()


call_orders = st.lists(
    st.tuples(
        st.sampled_from([BUY, SELL]),
        st.integers(2, 30),
        st.integers(95, 105),
        st.sampled_from(["limit", "market", "iceberg", "gtd"]),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(call_orders)
def test_uncross_when_levels_empty_whole_then_events_and_book_agree_per_order(entries):
    """Levels the auction empties leave the book whole; the events must still account for
    every order: trades carry each order's open quantity after the fill, every order left
    with nothing gets one FILLED done, and each level event matches the book it leaves."""
    core = call_core()
    for oid, (side, qty, price, kind) in enumerate(entries, 1):
        extra = {
            "market": {"order_type": OrderType.MARKET},
            "iceberg": {"display_qty": 1},
            "gtd": {"tif": TimeInForce.GTD, "expire_ts": 10**15},
        }.get(kind, {})
        run(
            core,
            new_order(oid, side, qty, 0 if kind == "market" else price, f"P{oid % 3}", **extra),
        )
    book = core.book(IID)
    open_before = {oid: order.leaves for oid, order in book.orders.items()}
    events = run(core, Uncross(IID))
    left = dict(open_before)
    for t in trades(events):
        left[t.buy_order_id] -= t.qty
        left[t.sell_order_id] -= t.qty
        assert (t.buy_leaves, t.sell_leaves) == (left[t.buy_order_id], left[t.sell_order_id])
    filled = [d.order_id for d in dones(events) if d.status == DoneStatus.FILLED]
    assert sorted(filled) == sorted(oid for oid, n in left.items() if n == 0)
    assert all(d.leaves_qty == 0 for d in dones(events) if d.status == DoneStatus.FILLED)
    for oid, n in left.items():
        if n:
            assert oid not in book.orders or book.orders[oid].leaves == n
        else:
            assert oid not in book.orders
    last_level = {(e.side, e.price): e for e in of_type(events, BookLevelChanged)}
    for (side, price), event in last_level.items():
        level = (book.bids if side == BUY else book.asks).get(-price if side == BUY else price)
        shown = (level.qty, len(level.orders)) if level else (0, 0)
        assert (event.qty, event.orders) == shown
    core.check()
