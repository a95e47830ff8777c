"""Market makers: MassQuote replaces two-sided quotes on many instruments in one message."""

from __future__ import annotations

import asyncio

from engine.codes import Reason
from gateway import protocol as p
from gateway.auth import load_key_pair
from gateway.client import AsyncClient
from gateway.protocol import ExecType, QuoteEntry
from tests.gateway.conftest import INSTRUMENT

OTHER = "ULR-5GSEP-26"
"""Tick 50, lot 10, reference 125,000."""


def _ack(client) -> p.MassQuoteAck:
    return client.wait_for(lambda m: type(m) is p.MassQuoteAck)


def test_mass_quote_when_new_then_both_sides_rest_on_every_instrument(harness):
    mm, bob = harness.client("ALICE"), harness.client("BOB")
    mm.mass_quote(
        [QuoteEntry(INSTRUMENT, 4800, 5, 4840, 5), QuoteEntry(OTHER, 124_950, 10, 125_050, 10)]
    )
    assert _ack(mm).rejects == []
    bob.buy(OTHER, 10, 125_050)
    bob_fill = bob.wait_for(lambda m: type(m) is p.ExecutionReport and m.exec_type == ExecType.FILL)
    mm_fill = mm.wait_for(lambda m: type(m) is p.ExecutionReport)
    assert (bob_fill.last_px, mm_fill.exec_type, mm_fill.cl_ord_id) == (125_050, ExecType.FILL, 0)
    assert mm_fill.instrument == OTHER and mm_fill.liquidity == p.Liquidity.ADDED


def test_mass_quote_when_requoted_then_old_prices_are_replaced_not_added(harness):
    mm, bob = harness.client("ALICE"), harness.client("BOB")
    mm.mass_quote([QuoteEntry(INSTRUMENT, 4800, 5, 4840, 5)])
    _ack(mm)
    mm.mass_quote([QuoteEntry(INSTRUMENT, 4790, 3, 4850, 0)])  # ask withdrawn
    assert _ack(mm).rejects == []
    bob.buy(INSTRUMENT, 1, 4850, tif=p.TimeInForce.IOC)
    ioc = bob.wait_for(lambda m: type(m) is p.ExecutionReport and m.exec_type != ExecType.NEW)
    assert (ioc.exec_type, ioc.reason) == (ExecType.CANCELLED, Reason.IOC_REMAINDER)
    bob.sell(INSTRUMENT, 5, 4790, tif=p.TimeInForce.IOC)
    fill = bob.wait_for(lambda m: type(m) is p.ExecutionReport and m.last_qty)
    assert (fill.last_qty, fill.last_px) == (3, 4790)  # the new bid size, not 5 + 3


def test_mass_quote_when_a_side_is_refused_then_ack_lists_it(harness):
    mm = harness.client("ALICE")
    mm.mass_quote([QuoteEntry(INSTRUMENT, 4800, 5, 4845, 5), QuoteEntry("NOPE", 1, 1, 2, 1)])
    rejects = {(r.index, r.side): r.reason for r in _ack(mm).rejects}
    assert rejects == {
        (0, 2): Reason.PRICE_OFF_TICK,
        (1, 1): Reason.UNKNOWN_INSTRUMENT,
        (1, 2): Reason.UNKNOWN_INSTRUMENT,
    }


def test_mass_quote_when_instrument_repeats_then_refused_whole(harness):
    mm = harness.client("ALICE")
    entry = QuoteEntry(INSTRUMENT, 4800, 5, 4840, 5)
    mm.mass_quote([entry, entry])
    assert _ack(mm).reason == Reason.DUPLICATE_QUOTE_ENTRY


def test_async_client_when_quoting_then_acked_and_filled(harness):
    seller = harness.client("BOB")

    async def scenario() -> tuple[p.MassQuoteAck, p.ExecutionReport]:
        key = load_key_pair(harness.key_dir / "participants", "ALICE")
        mm = AsyncClient(harness.server.order_endpoint, harness.server_key, key)
        try:
            await mm.logon()
            await mm.mass_quote([QuoteEntry(INSTRUMENT, 4800, 5, 4840, 5)])
            ack = await mm.recv(3)
            seller.sell(INSTRUMENT, 2, 4800)
            fill = await mm.recv(3)
            return ack, fill
        finally:
            mm.close()

    ack, fill = asyncio.run(scenario())
    assert type(ack) is p.MassQuoteAck and ack.rejects == []
    assert (fill.exec_type, fill.last_qty, fill.leaves_qty) == (ExecType.PARTIAL_FILL, 2, 3)


def test_async_client_when_managing_orders_then_every_request_is_answered(harness):
    async def answer(mm: AsyncClient, kind: type) -> p.Msg:
        while type(msg := await mm.recv(3)) is not kind:
            assert msg is not None, f"no {kind.__name__}"
        return msg

    async def scenario() -> list:
        key = load_key_pair(harness.key_dir / "participants", "ALICE")
        mm = AsyncClient(harness.server.order_endpoint, harness.server_key, key)
        try:
            await mm.logon()
            bid = await mm.new_order(INSTRUMENT, p.Side.BUY, 5, 4800)
            await answer(mm, p.ExecutionReport)
            amended = await mm.amend(bid, 4, 4790)
            replaced = await answer(mm, p.ExecutionReport)
            listing = await mm.mass_status(INSTRUMENT)
            status = await answer(mm, p.ExecutionReport)
            done = await answer(mm, p.MassStatusReport)
            asked = await mm.status(amended)
            single = await answer(mm, p.ExecutionReport)
            await mm.credit_status()
            credit = await answer(mm, p.CreditStatusReport)
            mass = await mm.mass_cancel(INSTRUMENT)
            cancelled = await answer(mm, p.MassCancelReport)
            return [replaced, (listing, status, done), (asked, single), credit, (mass, cancelled)]
        finally:
            mm.close()

    replaced, listing, single, credit, cancelled = asyncio.run(scenario())
    assert (replaced.exec_type, replaced.price, replaced.leaves_qty) == (ExecType.REPLACED, 4790, 4)
    request_id, status, done = listing
    assert (status.exec_type, status.leaves_qty, done.request_id, done.count) == (
        ExecType.ORDER_STATUS, 4, request_id, 1
    )
    assert single[0] == single[1].cl_ord_id and single[1].exec_type == ExecType.ORDER_STATUS
    assert credit.reason == Reason.NOT_PERMITTED  # this server runs without risk
    assert (cancelled[1].cl_ord_id, cancelled[1].cancelled) == (cancelled[0], 1)
