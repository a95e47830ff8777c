"""Market maker protection: the window and the freeze by sequenced times, and over real
sockets the pull of every quote once the window's fills reach the limit, the refused quotes
while frozen, the reset, and orders that are not quotes left alone."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.codes import Reason
from engine.messages import Side
from gateway import protocol as p
from gateway.mmp import FOREVER, MarketMakerProtection, MmpLimits
from gateway.protocol import ExecType, QuoteEntry
from tests.gateway.conftest import INSTRUMENT

OTHER = "ULR-5GSEP-26"
"""Tick 50, lot 10, reference 125,000."""
MS = 1_000_000
QUOTES = [QuoteEntry(INSTRUMENT, 4790, 4, 4810, 6), QuoteEntry(OTHER, 124_950, 10, 125_050, 10)]


# -- the window and the freeze, by the commands' times --------------------------------------


def test_window_when_fills_age_out_then_only_recent_ones_count():
    mmp = MarketMakerProtection(MmpLimits(window_ms=100, qty=10))
    assert not mmp.on_fill(0, 6)
    assert not mmp.on_fill(100 * MS, 6)  # the first fill is exactly one window old: out
    assert mmp.filled == 6
    assert mmp.on_fill(150 * MS, 4)
    assert (mmp.frozen_until, mmp.filled, list(mmp.fills)) == (FOREVER, 0, [])


def test_freeze_when_tripped_with_a_duration_then_it_ends_by_itself():
    mmp = MarketMakerProtection(MmpLimits(window_ms=100, qty=5, freeze_ms=50))
    assert mmp.on_fill(10 * MS, 5)
    assert mmp.frozen(59 * MS) and not mmp.frozen(60 * MS)


def test_freeze_when_frozen_then_more_fills_do_not_trip_again_and_reset_lifts_it():
    mmp = MarketMakerProtection(MmpLimits(window_ms=100, qty=5))
    assert mmp.on_fill(0, 5)
    assert not mmp.on_fill(1 * MS, 9)  # a fill racing the pull: already frozen
    assert mmp.frozen(10**18)
    mmp.reset()
    assert not mmp.frozen(2 * MS)


@pytest.mark.parametrize(
    "limits",
    [
        {"window_ms": 0, "qty": 1},
        {"window_ms": 1, "qty": 0},
        {"window_ms": 1, "qty": 1, "freeze_ms": -1},
    ],
)
def test_limits_when_not_positive_then_refused(limits):
    with pytest.raises(ValueError, match="mmp needs"):
        MmpLimits(**limits)


# -- over real sockets ----------------------------------------------------------------------

PROTECTED = [{"mmp": {"CAROL": MmpLimits(window_ms=60_000, qty=5)}}]


def _ack(client) -> p.MassQuoteAck:
    return client.wait_for(lambda m: type(m) is p.MassQuoteAck)


def _trip(harness):
    """CAROL quotes two instruments; BOB's sells fill 4 (under the limit of 5), then 2 more."""
    carol, bob = harness.client("CAROL"), harness.client("BOB")
    carol.mass_quote(QUOTES)
    assert _ack(carol).rejects == []
    bob.sell(INSTRUMENT, 4, 4790)
    carol.wait_for(lambda m: type(m) is p.ExecutionReport and m.exec_type == ExecType.FILL)
    bob.buy(INSTRUMENT, 2, 4810)
    return carol, bob


@pytest.mark.parametrize("harness", PROTECTED, indirect=True)
def test_mmp_when_window_reaches_limit_then_every_live_quote_pulled(harness):
    carol, _ = _trip(harness)

    pulled = [
        carol.wait_for(
            lambda m: type(m) is p.ExecutionReport and m.exec_type == ExecType.CANCELLED
        )
        for _ in range(3)  # the rest of the ask here, and both sides of the other instrument
    ]

    assert {(r.instrument, r.side, r.reason, r.cl_ord_id) for r in pulled} == {
        (INSTRUMENT, Side.SELL, Reason.MMP_TRIGGERED, 0),
        (OTHER, Side.BUY, Reason.MMP_TRIGGERED, 0),
        (OTHER, Side.SELL, Reason.MMP_TRIGGERED, 0),
    }
    (ask,) = [r for r in pulled if r.instrument == INSTRUMENT]
    assert (ask.cum_qty, ask.leaves_qty) == (2, 0)  # filled 2 of 6, the rest pulled
    for instrument in (INSTRUMENT, OTHER):
        book = harness.server.core.book(instrument)
        assert not [o for o in book.orders.values() if o.participant == "CAROL"]


@pytest.mark.parametrize("harness", PROTECTED, indirect=True)
def test_mmp_when_frozen_then_quotes_refused_until_reset(harness):
    carol, _ = _trip(harness)
    for _ in range(3):
        carol.wait_for(lambda m: type(m) is p.ExecutionReport and m.reason == Reason.MMP_TRIGGERED)

    carol.mass_quote(QUOTES)
    assert _ack(carol).reason == Reason.MMP_FROZEN
    carol.mass_quote(QUOTES, mmp_reset=True)
    assert (ack := _ack(carol)).reason == Reason.NONE and ack.rejects == []
    book = harness.server.core.book(OTHER)
    assert sorted(o.price for o in book.orders.values() if o.participant == "CAROL") == [
        124_950, 125_050
    ]


@pytest.mark.parametrize("harness", PROTECTED, indirect=True)
def test_mmp_when_fills_are_on_plain_orders_then_nothing_counts_or_is_pulled(harness):
    carol, bob = harness.client("CAROL"), harness.client("BOB")
    carol.mass_quote([QUOTES[1]])
    _ack(carol)
    plain = carol.buy(INSTRUMENT, 20, 4790)
    carol.wait_for(lambda m: type(m) is p.ExecutionReport and m.cl_ord_id == plain)
    bob.sell(INSTRUMENT, 20, 4790)
    fill = carol.wait_for(lambda m: type(m) is p.ExecutionReport and m.cl_ord_id == plain)
    assert fill.exec_type == ExecType.FILL

    carol.mass_quote([QUOTES[1]])  # not frozen: accepted (unchanged, so nothing to do)
    assert _ack(carol).reason == Reason.NONE
    book = harness.server.core.book(OTHER)
    assert len([o for o in book.orders.values() if o.participant == "CAROL"]) == 2


def test_mmp_when_not_configured_then_fills_never_pull(harness):
    carol, _ = _trip(harness)
    carol.mass_quote(QUOTES)
    assert _ack(carol).reason == Reason.NONE


def test_mmp_when_server_recovers_then_replay_pulls_nothing_again_and_starts_unfrozen(
    key_dir, tmp_path
):
    from tests.gateway.conftest import make_config
    from tests.gateway.test_recovery import Driver

    config = make_config(
        key_dir, tmp_path, data_dir=str(tmp_path / "data"), snapshot_every=0,
        sth_interval_ms=0, mmp={"CAROL": MmpLimits(window_ms=60_000, qty=5)},
    )
    d = Driver(config)
    d.logon("CAROL")
    d.logon("BOB")
    d.send("CAROL", p.MassQuote(1, [QuoteEntry(INSTRUMENT, 4790, 4, 4810, 6)]))
    d.send("BOB", p.NewOrder(101, INSTRUMENT, Side.SELL, 4, 4790))
    d.send("BOB", p.NewOrder(102, INSTRUMENT, Side.BUY, 1, 4810))  # 5 filled: tripped
    (pulled,) = d.turn()[b"CAROL"]  # the next batch carries the pull
    assert (pulled.exec_type, pulled.reason, pulled.leaves_qty) == (
        ExecType.CANCELLED, Reason.MMP_TRIGGERED, 0
    )
    seq = d.gateway.seq
    d.crash()

    again = Driver(config)  # replays the whole journal, then turns one batch

    assert (again.gateway.seq, again.gateway.entries) == (seq, [])
    again.logon("CAROL")
    (ack,) = again.send("CAROL", p.MassQuote(2, [QuoteEntry(INSTRUMENT, 4790, 4, 4810, 6)]))
    assert (ack.reason, ack.rejects) == (Reason.NONE, [])


@pytest.mark.parametrize("harness", PROTECTED, indirect=True)
def test_quote_cli_when_frozen_then_mmp_reset_lifts_it(harness, capsys):
    import json

    from gateway.cli import main

    carol, _ = _trip(harness)
    for _ in range(3):
        carol.wait_for(lambda m: type(m) is p.ExecutionReport and m.reason == Reason.MMP_TRIGGERED)
    where = ["-p", "CAROL", "--endpoint", harness.server.order_endpoint,
             "--key-dir", str(harness.key_dir), "--wait", "300"]
    quote = ["quote", INSTRUMENT, "4790", "4", "4810", "6", *where]

    assert main(quote) == 0
    assert main([*quote, "--mmp-reset"]) == 0

    acks = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(a["type"], a["reason"]) for a in acks] == [
        ("MassQuoteAck", "MMP_FROZEN"), ("MassQuoteAck", "NONE")
    ]


# -- the window against a brute-force count --------------------------------------------------


@given(
    limits=st.builds(
        MmpLimits,
        window_ms=st.integers(1, 50),
        qty=st.integers(1, 30),
        freeze_ms=st.integers(0, 50),
    ),
    fills=st.lists(st.tuples(st.integers(0, 20), st.integers(1, 10)), max_size=60),
    resets=st.sets(st.integers(0, 59)),
)
def test_window_when_fills_arrive_then_trips_exactly_as_a_recount_says(limits, fills, resets):
    """Each fill trips the protection exactly when the quantity filled within the window
    since the last trip (a trip empties it) reaches the limit and no freeze holds."""
    mmp = MarketMakerProtection(limits)
    window, freeze = limits.window_ms * MS, limits.freeze_ms * MS
    ts, since, frozen_until, seen = 0, 0, 0, []
    for index, (gap_ms, qty) in enumerate(fills):
        ts += gap_ms * MS
        if index in resets:
            mmp.reset()
            frozen_until = 0
        seen.append((ts, qty))
        recount = sum(q for t, q in seen[since:] if t > ts - window)
        frozen = frozen_until == FOREVER or ts < frozen_until
        expected = recount >= limits.qty and not frozen
        assert mmp.on_fill(ts, qty) == expected
        if expected:
            since = index + 1  # fills up to this one no longer count
            frozen_until = ts + freeze if freeze else FOREVER
        assert mmp.frozen(ts) == (frozen_until == FOREVER or ts < frozen_until)
