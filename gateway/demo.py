"""The demo market: seeded market makers and brokers trading the embedded IP instruments.

Runs the core in-process (the server-based demo builds on it), feeding it a seeded stream of
two-sided quotes and aggressive orders, and prints every trade and the best prices after
each round. Randomness lives here, in the simulated participants, never in the core.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from engine.core import Core
from engine.instruments import Instrument, default_instruments
from engine.messages import (
    AmendOrder,
    AnyCommand,
    NewOrder,
    OrderType,
    Side,
    TimeInForce,
    Trade,
)

MAKERS = ("MM-HAINAN-IP", "MM-PEARL-RIVER")
BROKERS = ("BRK-SANYA-SEC", "BRK-HAIKOU-CAP", "BRK-SHENZHEN-TECH")


def _on_tick(price: float, tick: int) -> int:
    return max(tick, round(price / tick) * tick)


def simulated_flow(instruments: list[Instrument], rounds: int, seed: int) -> Iterator[AnyCommand]:
    """Yield a seeded command stream: makers quote both sides, brokers cross the spread."""
    rng = random.Random(seed)
    next_id = iter(range(1, 1 << 62))
    mids = {i.instrument_id: float(i.reference_price) for i in instruments}
    quotes: dict[tuple[str, str, int], int] = {}
    for _ in range(rounds):
        inst = rng.choice(instruments)
        iid, tick, lot = inst.instrument_id, inst.tick_size, inst.lot_size
        mids[iid] *= 1 + rng.gauss(0, 0.002)
        mid = mids[iid]
        maker = rng.choice(MAKERS)
        for side, sign in ((Side.BUY, -1), (Side.SELL, 1)):
            price = _on_tick(mid * (1 + sign * rng.uniform(0.001, 0.01)), tick)
            qty = lot * rng.randint(1, 10)
            key = (iid, maker, side)
            if key in quotes:
                yield AmendOrder(iid, quotes[key], maker, qty, price)
            else:
                quotes[key] = next(next_id)
                yield NewOrder(iid, quotes[key], maker, side, qty, price)
        if rng.random() < 0.6:
            side = rng.choice((Side.BUY, Side.SELL))
            yield NewOrder(
                iid,
                next(next_id),
                rng.choice(BROKERS),
                side,
                lot * rng.randint(1, 6),
                order_type=OrderType.MARKET,
                tif=TimeInForce.IOC,
            )


def run(rounds: int = 400, seed: int = 7, echo=print) -> Core:
    """Run the in-process demo market and print trades and best prices as they happen."""
    instruments = default_instruments()
    core = Core(instruments)
    echo(f"IP exchange demo: {len(instruments)} instruments, {rounds} rounds, seed {seed}")
    for inst in instruments:
        echo(f"  {inst.instrument_id:<18} {inst.kind:<22} {inst.currency} {inst.name}")
    trades = 0
    for seq, cmd in enumerate(simulated_flow(instruments, rounds, seed), 1):
        for event in core.apply(cmd, seq, seq * 1_000_000):
            if isinstance(event, Trade):
                trades += 1
                book = core.book(event.instrument)
                scale = 10**book.instrument.minor_units
                echo(
                    f"seq {seq:>6} TRADE {event.instrument:<18} {event.qty:>5} @ "
                    f"{event.price / scale:>14,.2f} {book.instrument.currency}  "
                    f"{event.buyer} <- {event.seller}  "
                    f"bid {_fmt(book.best_bid(), scale)} / ask {_fmt(book.best_ask(), scale)}"
                )
    core.check()
    echo(f"done: {seq} commands, {trades} trades, fingerprint {core.fingerprint()[:16]}")
    return core


def _fmt(price: int | None, scale: int) -> str:
    return "-" if price is None else f"{price / scale:,.2f}"
