"""The demo market over real sockets: a server, seeded market makers and brokers, a summary.

The server runs on a background thread with CURVE on ipc sockets in a temporary directory
(with its own throwaway keys), so the demo never collides with a running ``ipx serve``.
Market makers requote every continuous instrument with one MassQuote around a drifting mid;
brokers send marketable IOC orders and resting limit orders (with self-trade prevention that
cancels their own resting order, so no firm trades with itself in continuous trading), limit
orders into the periodic call of the IP-note tranche, and rising bids in the English auction
of the rice-variety assignment, whose breeder offers it at a reserve. The operator runs the
auctions over the admin port: an uncross of the call every two seconds, and the English
auction's clock; at the close it reads every credit line and guarantor (``CreditQuery``).
Each simulated participant has its own seeded random stream; the thread scheduling decides
the interleaving, so two runs trade alike but not identically. A tape sink prints trades
and auctions as the core makes them, and the best prices of each instrument that traded.
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import zmq

from engine.book import Book
from engine.core import Core
from engine.instruments import Instrument, default_instruments
from engine.messages import (
    AuctionExtended,
    AuctionUncrossed,
    Event,
    OrderType,
    Side,
    StartEnglishAuction,
    StpMode,
    TimeInForce,
    Trade,
    Uncross,
)
from gateway import protocol as p
from gateway.auth import load_key_pair
from gateway.cli_output import amount, credit_table
from gateway.client import AdminClient, Client, participant_keys
from gateway.config import DEMO_ADMIN, DEMO_BROKERS, DEMO_MAKERS, SERVER_KEY, demo_config
from gateway.server import Server, run_in_thread

QUOTE_EVERY_S = 0.2
ORDER_EVERY_S = (0.05, 0.3)
CALL_INSTRUMENT = "IPN-HNFTP-29A"
"""The IP-note tranche trades in periodic calls; the operator uncrosses it this often:"""
UNCROSS_EVERY_S = 2.0
ENGLISH_LOT = "ASG-HNRICE-PV"
ENGLISH_SELLER = "HN-SEED-INSTITUTE"
MAX_BIDS = 2


def _on_tick(price: float, tick: int) -> int:
    return max(tick, round(price / tick) * tick)


def _price(book: Book, price: int) -> str:
    """A price in minor units as the tape shows it: in major units, right-aligned."""
    return f"{amount(price, book.instrument.currency):>14}"


def best_prices(book: Book) -> str:
    """Top of book as a broker reads it: "bid qty @ price / ask qty @ price", "-" if empty."""
    sides = []
    for side, name in ((Side.BUY, "bid"), (Side.SELL, "ask")):
        top = book.depth(side, 1)
        if top:
            price, qty, _ = top[0]
            sides.append(f"{name} {qty:>5} @ {_price(book, price)}")
        else:
            sides.append(f"{name} {'-':>22}")
    return " / ".join(sides)


class TapeSink:
    """Prints each trade as the core reports it, then the best prices of each instrument
    that traded, after the batch (as the feed's quote channel does; an event sink)."""

    def __init__(self, core: Core, echo) -> None:
        self.core = core
        self.echo = echo
        self.trades: list[Trade] = []
        self.auctions: list[AuctionUncrossed] = []

    def sockets(self) -> list[zmq.Socket]:
        return []

    def on_readable(self, sock: zmq.Socket) -> None:
        return None

    def on_events(self, events: list[Event], ts: int | None = None) -> None:
        traded: dict[str, None] = {}  # the instruments that traded in this batch, in order
        for event in events:
            kind = type(event)
            if kind is AuctionUncrossed and event.price is None:
                self.echo(f"seq {event.seq:>6} AUCTION {event.instrument:<16} no trade")
            elif kind is AuctionUncrossed:
                price = _price(self.core.book(event.instrument), event.price)
                self.auctions.append(event)
                self.echo(
                    f"seq {event.seq:>6} AUCTION {event.instrument:<16} {event.volume:>5} @ "
                    f"{price} in {event.trades} trades"
                )
            elif kind is AuctionExtended:
                self.echo(f"seq {event.seq:>6} EXTENDED {event.instrument}: a bid came late")
            elif kind is Trade:
                self.trades.append(event)
                traded[event.instrument] = None
                book = self.core.book(event.instrument)
                self.echo(
                    f"seq {event.seq:>6} TRADE {event.instrument:<18} {event.qty:>5} @ "
                    f"{_price(book, event.price)} {book.instrument.currency}  "
                    f"{event.buyer} <- {event.seller}"
                )
        # The books as the batch left them: labelled with its last sequence number.
        for instrument in traded:
            best = best_prices(self.core.book(instrument))
            self.echo(f"seq {events[-1].seq:>6} BEST  {instrument:<18} {best}")

    def on_idle(self, now_ns: int) -> None:
        return None

    def next_deadline(self) -> None:
        return None

    def close(self) -> None:
        return None


class _Participant(threading.Thread):
    """One simulated firm: its own client, seed and counters."""

    def __init__(self, name, client, instruments, seed, stop) -> None:
        super().__init__(name=name, daemon=True)
        self.client = client
        self.instruments = instruments
        self.rng = random.Random(seed)
        self.stop = stop
        self.sent = 0
        self.reports: Counter = Counter()
        self.error: BaseException | None = None

    def drain(self, wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        while (left := deadline - time.monotonic()) > 0:
            msg = self.client.recv(int(left * 1000) + 1)
            if type(msg) is p.ExecutionReport and msg.exec_type == p.ExecType.REJECTED:
                self.reports[f"rejected {msg.reason.name}"] += 1
            elif type(msg) is p.ExecutionReport:
                self.reports[msg.exec_type.name] += 1
            elif msg is not None:
                self.reports[type(msg).__name__] += 1

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.step()
        except BaseException as error:  # reported by the summary, not lost in a thread
            self.error = error


class _Maker(_Participant):
    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.mids = {i.instrument_id: float(i.reference_price) for i in self.instruments}

    def step(self) -> None:
        entries = []
        for inst in self.instruments:
            mid = self.mids[inst.instrument_id] * (1 + self.rng.gauss(0, 0.002))
            self.mids[inst.instrument_id] = mid
            half = self.rng.uniform(0.002, 0.01)
            entries.append(
                p.QuoteEntry(
                    inst.instrument_id,
                    _on_tick(mid * (1 - half), inst.tick_size),
                    inst.lot_size * self.rng.randint(1, 10),
                    _on_tick(mid * (1 + half), inst.tick_size) + inst.tick_size,
                    inst.lot_size * self.rng.randint(1, 10),
                )
            )
        self.client.mass_quote(entries)
        self.sent += 1
        self.drain(QUOTE_EVERY_S)


class _Broker(_Participant):
    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.bids = 0

    def step(self) -> None:
        inst: Instrument = self.rng.choice(self.instruments)
        if inst.instrument_id == ENGLISH_LOT and self.bids >= MAX_BIDS:
            inst = self.instruments[0]  # bids are binding: each holds credit until the close
        if inst.regime != "continuous":
            self.auction_order(inst)
            return
        side = self.rng.choice((Side.BUY, Side.SELL))
        qty = inst.lot_size * self.rng.randint(1, 6)
        if self.rng.random() < 0.7:
            self.client.new_order(
                inst.instrument_id,
                side,
                qty,
                order_type=OrderType.MARKET,
                tif=TimeInForce.IOC,
                stp=StpMode.CANCEL_MAKER,
            )
        else:
            sign = -1 if side == Side.BUY else 1
            price = inst.reference_price * (1 + sign * self.rng.uniform(0.005, 0.03))
            self.client.new_order(
                inst.instrument_id,
                side,
                qty,
                _on_tick(price, inst.tick_size),
                tif=TimeInForce.DAY,
                stp=StpMode.CANCEL_MAKER,
            )
        self.sent += 1
        self.drain(self.rng.uniform(*ORDER_EVERY_S))

    def auction_order(self, inst: Instrument) -> None:
        """A limit order into the tranche's call, or a rising bid for the assignment lot."""
        if inst.instrument_id == ENGLISH_LOT:
            self.bids += 1
            price = inst.reference_price * (97 + 3 * self.bids + self.rng.randint(0, 2)) // 100
            self.client.new_order(
                inst.instrument_id,
                Side.BUY,
                inst.lot_size,
                _on_tick(price, inst.tick_size),
                tif=TimeInForce.GTC,
            )
        else:
            side = self.rng.choice((Side.BUY, Side.SELL))
            price = inst.reference_price * (1 + self.rng.uniform(-0.02, 0.02))
            self.client.new_order(
                inst.instrument_id,
                side,
                inst.lot_size * self.rng.randint(1, 20),
                _on_tick(price, inst.tick_size),
                tif=TimeInForce.GFA,
            )
        self.sent += 1
        self.drain(self.rng.uniform(*ORDER_EVERY_S))


class _Operator(threading.Thread):
    """The exchange's operations desk: opens the English auction, uncrosses the call."""

    def __init__(self, admin: AdminClient, seconds: float, stop: threading.Event) -> None:
        super().__init__(name="operator", daemon=True)
        self.admin, self.seconds, self.stop = admin, seconds, stop
        self.auction_open = threading.Event()

    def run(self) -> None:
        lot = next(i for i in default_instruments() if i.instrument_id == ENGLISH_LOT)
        end = time.time_ns() + int(self.seconds * 0.8e9)
        self.admin.request(
            StartEnglishAuction(
                ENGLISH_LOT,
                lot.reference_price * 95 // 100,
                lot.tick_size * 100,
                end,
                1_500_000_000,
                1_000_000_000,
            )
        )
        self.auction_open.set()
        while not self.stop.wait(UNCROSS_EVERY_S):
            self.admin.request(Uncross(CALL_INSTRUMENT))


def run(seconds: float = 10.0, seed: int = 7, echo=print) -> dict:
    """Run the demo market for ``seconds`` and print the tape and a summary; return it."""
    every = default_instruments()
    instruments = [i for i in every if i.regime == "continuous"]
    auctioned = [i for i in every if i.instrument_id in (CALL_INSTRUMENT, ENGLISH_LOT)]
    with tempfile.TemporaryDirectory(prefix="ipx-demo-") as tmp:
        key_dir = Path(tmp) / "keys"
        config = demo_config(
            key_dir, order_endpoint=f"ipc://{tmp}/orders", admin_endpoint=f"ipc://{tmp}/admin"
        )
        server = Server(config)
        tape = TapeSink(server.core, echo)
        server.add_sink(tape)
        thread = run_in_thread(server)
        echo(f"IP exchange demo: server on {server.order_endpoint} (CURVE), {seconds:g} s")
        echo(f"seeded participants (seed {seed}): {', '.join(DEMO_MAKERS + DEMO_BROKERS)}")
        for inst in instruments:
            echo(f"  {inst.instrument_id:<18} {inst.kind:<22} {inst.currency} {inst.name}")
        stop = threading.Event()
        context = zmq.Context()
        firms = []
        for index, name in enumerate(DEMO_MAKERS + DEMO_BROKERS):
            server_key, key = participant_keys(key_dir, name)
            client = Client(server.order_endpoint, server_key, key, context=context)
            client.logon()
            if name in DEMO_MAKERS:
                quoted = instruments + [i for i in auctioned if i.instrument_id == CALL_INSTRUMENT]
                firms.append(_Maker(name, client, quoted, seed * 1000 + index, stop))
            else:
                firms.append(
                    _Broker(name, client, instruments + auctioned, seed * 1000 + index, stop)
                )
        admin = AdminClient(
            server.admin_endpoint,
            load_key_pair(key_dir, SERVER_KEY).public,
            load_key_pair(key_dir / "admin", DEMO_ADMIN),
            context=context,
        )
        operator = _Operator(admin, seconds, stop)
        operator.start()
        server_key, key = participant_keys(key_dir, ENGLISH_SELLER)
        seller = Client(server.order_endpoint, server_key, key, context=context)
        seller.logon()
        lot = next(i for i in auctioned if i.instrument_id == ENGLISH_LOT)
        if operator.auction_open.wait(5):  # the reserve goes in once bidding is open
            seller.new_order(
                ENGLISH_LOT,
                Side.SELL,
                lot.lot_size,
                lot.reference_price,
                tif=TimeInForce.GTC,
            )
        for firm in firms:
            firm.start()
        stop.wait(seconds)
        stop.set()
        operator.join(5)
        seller.close()
        for firm in firms:
            firm.join(5)
            firm.client.logout()
            firm.client.close()
        credit = admin.credit()  # the operator's view of the lines after the session
        admin.close()
        context.term()
        server.stop()
        thread.join(5)
    server.core.check()
    return _summary(server, tape, firms, credit, echo)


def _summary(server: Server, tape: TapeSink, firms: list, credit, echo) -> dict:
    by_instrument: dict[str, list[Trade]] = {}
    for trade in tape.trades:
        by_instrument.setdefault(trade.instrument, []).append(trade)
    echo("")
    echo(f"{'instrument':<18} {'trades':>7} {'volume':>8} {'vwap':>16} {'last':>16}")
    for instrument, trades in sorted(by_instrument.items()):
        scale = 10 ** server.core.book(instrument).instrument.minor_units
        volume = sum(t.qty for t in trades)
        vwap = sum(t.qty * t.price for t in trades) / volume / scale
        last = trades[-1].price / scale
        echo(f"{instrument:<18} {len(trades):>7} {volume:>8} {vwap:>16,.2f} {last:>16,.2f}")
    echo("")
    echo(f"{'participant':<18} {'sent':>6}  reports")
    for firm in firms:
        counts = ", ".join(f"{k.lower()} {v}" for k, v in sorted(firm.reports.items()))
        echo(f"{firm.name:<18} {firm.sent:>6}  {counts}")
        if firm.error is not None:
            echo(f"  error: {firm.error!r}")
    echo("")
    # What each line's working orders and unsettled fills use, as the operator sees it.
    for row in credit_table(credit.seq, credit.lines, credit.guarantors):
        echo(row)
    summary = {
        "commands": server.gateway.seq,
        "trades": len(tape.trades),
        "fingerprint": server.core.fingerprint(),
        "errors": sum(firm.error is not None for firm in firms),
    }
    echo(
        f"\ndone: {summary['commands']} sequenced commands, {summary['trades']} trades, "
        f"fingerprint {summary['fingerprint'][:16]}"
    )
    return summary
