"""``ipx feed``: a live terminal ticker, or the feed as JSON lines.

Public functions: :func:`render`, :func:`run_ticker`, :func:`run_json`, :func:`to_json`,
:func:`format_price`, :func:`aligned`.

One row per instrument: phase, best bid and offer with quantities, last trade, change from
the reference price, the day's volume and VWAP, and the indicative auction price and volume
during a call. The screen is redrawn in place with ANSI codes, at most a few times a second,
so a busy feed does not turn into a busy terminal.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Container, Sequence
from typing import TextIO

import msgspec

from engine.messages import Phase
from marketdata.client import FeedClient
from marketdata.localbook import InstrumentView
from marketdata.messages import (
    AuctionIndicative,
    Bars,
    DepthUpdate,
    InstrumentInfo,
    InstrumentStatus,
    OrderLevels,
    Trades,
)

REDRAW_S = 0.25
HOME_CLEAR = "\x1b[H\x1b[2J"
COLUMNS = ("instrument", "phase", "bid qty", "bid", "ask", "ask qty", "last", "chg",
           "chg %", "volume", "vwap", "indicative")
NO_CALL = (Phase.CONTINUOUS, Phase.CLOSED, Phase.HALTED)
"""Phases without an auction call, where an indicative price would be stale."""
_json = msgspec.json.Encoder()


def format_price(price: int | None, minor_units: int) -> str:
    """An integer price in minor units as a decimal string; "-" when there is none.

    >>> format_price(125050, 2), format_price(0, 2), format_price(-150, 2), format_price(7, 0)
    ('1250.50', '-', '-1.50', '7')
    """
    if not price:
        return "-"
    if not minor_units:
        return str(price)
    sign = "-" if price < 0 else ""
    whole, frac = divmod(abs(price), 10**minor_units)
    return f"{sign}{whole}.{frac:0{minor_units}d}"


def _row(view: InstrumentView, info: InstrumentInfo | None) -> list[str]:
    mu = info.minor_units if info else 0
    q, st, s, a = view.quote, view.status, view.stats, view.auction
    last = s.last if s else 0
    ref = st.reference_price if st else 0
    change = last - ref if last and ref else 0
    phase = Phase(st.phase).name.lower() if st else "?"
    indicative = "-"
    if a is not None and st is not None and st.phase not in NO_CALL:
        indicative = f"{format_price(a.price, mu)} x {a.volume}"
    return [
        view.instrument,
        phase,
        str(q.bid_qty) if q and q.bid_price else "-",
        format_price(q.bid_price if q else 0, mu),
        format_price(q.ask_price if q else 0, mu),
        str(q.ask_qty) if q and q.ask_price else "-",
        format_price(last, mu),
        ("+" if change > 0 else "") + format_price(change, mu) if change else "0",
        f"{100 * change / ref:+.2f}" if ref and last else "-",
        str(s.volume) if s else "0",
        format_price(s.vwap if s else 0, mu),
        indicative,
    ]


def render(views: Sequence[InstrumentView], infos: dict[str, InstrumentInfo]) -> str:
    """The ticker table as text: a header, then one aligned row per instrument."""
    rows = [list(COLUMNS)] + [_row(v, infos.get(v.instrument)) for v in views]
    return "\n".join(aligned(rows, right=range(2, len(COLUMNS)))) + "\n"


def aligned(rows: Sequence[Sequence[str]], right: Container[int] = ()) -> list[str]:
    """Text columns two spaces apart, each as wide as its widest cell; the columns in
    ``right`` flush right (numbers), the others left. Every command's table uses this.

    >>> print("\\n".join(aligned([("name", "qty"), ("ULR-5GSEP-26", "10")], right={1})))
    name          qty
    ULR-5GSEP-26   10
    """
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(width) if col in right else cell.ljust(width)
            for col, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def run_ticker(
    client: FeedClient,
    out: TextIO = sys.stdout,
    seconds: float | None = None,
    count: int | None = None,
) -> int:
    """Redraw the table as updates arrive; stop after ``seconds`` or ``count`` updates."""
    infos = {i.instrument: i for i in client.directory or ()}
    ansi = out.isatty()
    seen = 0
    drawn = 0.0
    for _ in client.updates(seconds):
        seen += 1
        done = count is not None and seen >= count
        now = time.monotonic()
        if done or now - drawn >= REDRAW_S:
            drawn = now
            out.write((HOME_CLEAR if ansi else "") + render(list(client.views.values()), infos))
            out.flush()
        if done:
            break
    out.write(render(list(client.views.values()), infos))
    return seen


SIDE_NAMES = ("NONE", "BUY", "SELL")
"""A feed side (0 none, as an auction's aggressor or a balanced surplus; 1 buy; 2 sell)."""


def _trade(trade: tuple) -> dict:
    trade_id, price, qty, aggressor, ts = trade
    return {"trade_id": trade_id, "price": price, "qty": qty,
            "aggressor": SIDE_NAMES[aggressor], "ts": ts}


def _level(level: tuple) -> dict:
    side, price, qty, orders = level
    return {"side": SIDE_NAMES[side], "price": price, "qty": qty, "orders": orders}


def _queue(queue: tuple) -> dict:
    side, price, orders = queue
    return {"side": SIDE_NAMES[side], "price": price,
            "orders": [{"order_id": order_id, "qty": qty} for order_id, qty in orders]}


_NAMED_ITEMS = {Trades: ("trades", _trade), DepthUpdate: ("levels", _level),
                OrderLevels: ("levels", _queue), Bars: ("bars", msgspec.structs.asdict)}
"""The list field of a message whose items travel as bare arrays, and how to name them."""


def to_json(update: msgspec.Struct) -> bytes:
    """One update as a JSON object with named fields: ``{"type": "Trades", ...}``.

    The wire's bare arrays (trades, levels, queues, bars) become objects and sides and phases
    their names, so an analyst's script reads ``trade["price"]``, not ``trade[1]``.

    >>> print(to_json(Trades(7, "ULR-5GSEP-26", [(1, 125_500, 10, 1, 99)])).decode())
    {"type":"Trades","seq":7,"instrument":"ULR-5GSEP-26","trades":[{"trade_id":1,"price":125500,"qty":10,"aggressor":"BUY","ts":99}]}
    """
    fields = msgspec.structs.asdict(update)
    kind = type(update)
    named = _NAMED_ITEMS.get(kind)
    if named is not None:
        name, convert = named
        fields[name] = [convert(item) for item in fields[name]]
    elif kind is InstrumentStatus:
        fields["phase"] = Phase(update.phase).name
    elif kind is AuctionIndicative:
        fields["surplus_side"] = SIDE_NAMES[update.surplus_side]
    return _json.encode({"type": kind.__name__, **fields})


def run_json(
    client: FeedClient,
    out: TextIO = sys.stdout,
    seconds: float | None = None,
    count: int | None = None,
) -> int:
    """Write every applied update as a JSON line; stop after ``seconds`` or ``count``."""
    seen = 0
    for update in client.updates(seconds):
        out.write(to_json(update).decode() + "\n")
        seen += 1
        if count is not None and seen >= count:
            break
    out.flush()
    return seen
