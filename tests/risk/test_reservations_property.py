"""Property: after every command of a random stream, reservations are exactly what the open
orders need, every total is the sum of its parts, and nothing is negative.

Streams mix new limit, market, IOC, FOK, stop and iceberg orders, cancels and amends from
several participants in a CNY licence, a USD note (cross-currency for CNY lines), a future and
an option, with tight credit so rejects happen too; and operator commands in between: reference
prices (moving the band that market and stop-market buys are valued at), FX tables, fees,
margins, settlements, kill switches and end of day. ``Market.apply`` runs ``core.check()``
after each command, which runs the risk engine's invariant check against the books.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.messages import (
    AmendOrder,
    CancelOrder,
    EndTradingDay,
    OrderType,
    SetReferencePrice,
    Side,
    StpMode,
    TimeInForce,
)
from risk.messages import (
    FxRate,
    KillScope,
    KillSwitch,
    SetFxRates,
    SetMargin,
    SetRiskParams,
    Settle,
)
from tests.risk.test_risk_engine_support import FUT, NOTE, OPT, ULR, market

PARTICIPANTS = ("A", "B", "C", "ISSUER")
INSTRUMENTS = (ULR, ULR, NOTE, FUT, OPT)
TIFS = (TimeInForce.GTC, TimeInForce.DAY, TimeInForce.IOC, TimeInForce.FOK)

ops = st.tuples(st.integers(0, 99), st.integers(0, 10**6), st.integers(0, 10**6))


def _apply(m, roll: int, a: int, b: int) -> None:
    live = sorted(
        (oid, book.instrument_id, order.participant, order.qty, order.filled, order.price)
        for book in m.core.books.values()
        for oid, order in book.orders.items()
    )
    participant = PARTICIPANTS[a % len(PARTICIPANTS)]
    instrument = INSTRUMENTS[b % len(INSTRUMENTS)]
    side = Side.BUY if (a >> 3) % 2 else Side.SELL
    qty = 1 + (b >> 4) % 12
    price = 94 + (a >> 5) % 13  # 94..106: near the reference, so orders cross often
    if roll < 45:
        tif = TIFS[(b >> 8) % len(TIFS)]
        peak = qty // 2 if tif in (TimeInForce.GTC, TimeInForce.DAY) and (b >> 10) % 4 == 0 else 0
        stp = StpMode((a >> 12) % 5)
        m.order(participant, side, qty, price, instrument, tif=tif, display_qty=peak, stp=stp)
    elif roll < 53:
        m.market_order(participant, side, qty, instrument)
    elif roll < 60:
        last = m.core.book(instrument).trigger_price
        stop = last + 3 if side == Side.BUY else last - 3
        kind = OrderType.STOP if (a >> 9) % 2 else OrderType.STOP_LIMIT
        limit = 0 if kind == OrderType.STOP else price
        m.order(participant, side, qty, limit, instrument, order_type=kind, stop_price=stop)
    elif roll < 75 and live:
        oid, iid, owner, *_ = live[a % len(live)]
        m.apply(CancelOrder(iid, oid, owner))
    elif roll < 87 and live:
        oid, iid, owner, total, filled, old_price = live[a % len(live)]
        new_qty = max(filled + 1, total + (b % 7) - 3)
        new_price = old_price and old_price + (b >> 3) % 5 - 2
        m.apply(AmendOrder(iid, oid, owner, new_qty, new_price))
    elif roll < 90:
        m.apply(SetReferencePrice(instrument, 90 + b % 21))
    elif roll < 92:
        m.apply(SetFxRates((FxRate("USD", 650_000_000 + b % 10**8), FxRate("HKD", 90_000_000))))
    elif roll < 94:
        m.apply(SetRiskParams(fee_bp=b % 50, fx_haircut_bp=a % 500, fx_max_age_ns=10**15))
    elif roll < 95:
        m.apply(SetMargin(FUT if b % 2 else OPT, 10 + a % 90))
    elif roll < 97:
        pos = m.risk.accounts[participant].positions.get(instrument)
        if pos is not None and pos.net:
            m.apply(Settle(participant, instrument, pos.net if b % 2 else pos.net // 2 or pos.net))
    elif roll < 99:
        m.apply(KillSwitch(KillScope.PARTICIPANT, participant, engaged=bool(b % 2)))
    else:
        m.apply(EndTradingDay())


@settings(max_examples=150, deadline=None)
@given(st.lists(ops, min_size=1, max_size=100))
def test_reservations_when_random_streams_then_exact_and_never_negative(stream):
    m = market(limit=12_000, capacity=30_000, holding=25, fee_bp=10, haircut_bp=250)
    for roll, a, b in stream:
        _apply(m, roll, a, b)
    # cancel everything: every reservation is released, only exposure remains
    for book in m.core.books.values():
        for oid, order in sorted(book.orders.items()):
            m.apply(CancelOrder(book.instrument_id, oid, order.participant))
    for account in m.risk.accounts.values():
        assert all(pos.reserved == 0 for pos in account.positions.values())
