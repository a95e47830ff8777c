"""``ipx chart``: a PNG of one instrument's session: price, volume and depth over time.

Public types and functions: :class:`Recording`, :func:`record`, :func:`draw`.

The session so far comes from the snapshot (the publisher keeps a day of 1-minute bars and
ten minutes of 1-second bars); quotes and depth are sampled live while recording, because
the publisher keeps no history of them. Drawing uses matplotlib's Agg backend: no display.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import msgspec

from marketdata.client import FeedClient
from marketdata.messages import Bar, DepthUpdate, InstrumentInfo, Quote
from marketdata.ticker import format_price


def _when(ts_ns: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts_ns / 1e9, tz=dt.UTC)


class Recording(msgspec.Struct):
    """What the chart shows, in feed units: ``(ts, ...)`` samples and the session's bars."""

    instrument: str
    bars: list[Bar] = []
    quotes: list[tuple[int, int, int]] = []
    """``(ts, bid, ask)`` at each quote change."""
    depth: list[tuple[int, int, int]] = []
    """``(ts, bid qty, ask qty)``: displayed quantity in the depth window after each update."""
    ladder: list[tuple[int, int, int]] = []
    """The final depth window as ``(side, price, qty)``."""
    trades: list[tuple[int, int, int]] = []
    """``(ts, price, qty)`` of the trades the client holds (recent ones, then live)."""


def record(client: FeedClient, instrument: str, seconds: float) -> Recording:
    """Synchronise ``instrument``, then sample quotes and depth for ``seconds``."""
    view = client.subscribe(instrument)
    rec = Recording(instrument)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for update in client.poll(50):
            if not getattr(update, "ts", 0):  # an untouched book's state: no time to plot it at
                continue
            if type(update) is Quote:
                rec.quotes.append((update.ts, update.bid_price, update.ask_price))
            elif type(update) is DepthUpdate:
                rec.depth.append((update.ts, *(
                    sum(q for _, q, _ in view.book.depth(side)) for side in (1, 2)
                )))
    series = view.bars
    rec.bars = series.get(1, []) if len(series.get(1, [])) > len(series.get(60, [])) \
        else series.get(60, [])
    rec.ladder = [(side, p, q) for side in (1, 2) for p, q, _ in view.book.depth(side)]
    rec.trades = [(t[4], t[1], t[2]) for t in view.trades]
    # A step line ends at its last sample, so an unchanged quote would draw nothing: carry the
    # last quote and depth on to the feed's latest time (a heartbeat's, or the last sample's).
    latest = [series[-1][0] for series in (rec.trades, rec.quotes, rec.depth) if series]
    end = max(client.last_heartbeat_ns, *latest)
    for series in (rec.quotes, rec.depth):
        if series and series[-1][0] < end:
            series.append((end, *series[-1][1:]))
    return rec


def draw(rec: Recording, path: Path, info: InstrumentInfo | None = None) -> Path:
    """Write the chart: price (candles, trades, bid and ask), volume per bar, depth."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import dates
    from matplotlib import pyplot as plt

    scale = 10 ** (info.minor_units if info else 0)
    fig, (price_ax, volume_ax, depth_ax) = plt.subplots(
        3, 1, figsize=(10, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1, 1.5]}
    )
    title = rec.instrument if info is None else f"{rec.instrument}  {info.name}"
    fig.suptitle(title, fontsize=10)
    if rec.bars:  # candles: a thin high-low line and a thick open-close body per bar
        mid = [_when(b.start_ts + b.interval_s * 5e8) for b in rec.bars]
        width = rec.bars[0].interval_s * 0.8 / 86_400  # matplotlib dates count days
        price_ax.vlines(mid, [b.low / scale for b in rec.bars], [b.high / scale for b in rec.bars],
                        color="0.4", linewidth=1)
        price_ax.vlines(mid, [b.open / scale for b in rec.bars],
                        [b.close / scale for b in rec.bars], linewidth=5, alpha=0.6,
                        colors=["green" if b.close >= b.open else "red" for b in rec.bars])
        volume_ax.bar(mid, [b.volume for b in rec.bars], width=width, color="steelblue")
    if rec.trades:
        price_ax.scatter([_when(t[0]) for t in rec.trades], [t[1] / scale for t in rec.trades],
                         s=4, color="black", label="trades", zorder=3)
    if rec.quotes:
        ts = [_when(q[0]) for q in rec.quotes]
        for column, colour, label in ((1, "green", "bid"), (2, "red", "ask")):
            values = [q[column] / scale if q[column] else float("nan") for q in rec.quotes]
            price_ax.step(ts, values, where="post", color=colour, linewidth=0.8, label=label)
    if rec.depth:
        ts = [_when(d[0]) for d in rec.depth]
        depth_ax.fill_between(ts, [d[1] for d in rec.depth], step="post", color="green",
                              alpha=0.4, label="bid depth")
        depth_ax.fill_between(ts, [-d[2] for d in rec.depth], step="post", color="red",
                              alpha=0.4, label="ask depth")
        depth_ax.axhline(0, color="0.3", linewidth=0.5)
    if not (rec.bars or rec.trades or rec.quotes):
        price_ax.text(0.5, 0.5, "no trades or quotes yet", transform=price_ax.transAxes,
                      ha="center", va="center", color="0.4")
    times = [s[0] for series in (rec.trades, rec.quotes, rec.depth) for s in series]
    times += [b.start_ts for b in rec.bars] + [b.start_ts + b.interval_s * 10**9 for b in rec.bars]
    if times:  # the session's span, also when nothing moved (flat series do not autoscale)
        price_ax.set_xlim(_when(min(times)), _when(max(max(times), min(times) + 10**9)))
    mu = info.minor_units if info else 0
    best = {side: format_price(p, mu) for side, p, _ in reversed(rec.ladder)}
    price_ax.set_ylabel(f"price ({info.currency})" if info else "price")
    if price_ax.get_legend_handles_labels()[0]:
        price_ax.legend(loc="upper left", fontsize=8)
    price_ax.set_title(f"now: bid {best.get(1, '-')}  ask {best.get(2, '-')}", fontsize=8,
                       loc="right")
    volume_ax.set_ylabel("volume")
    depth_ax.set_ylabel("depth (bid +, ask -)")
    depth_ax.set_xlabel("time (UTC)")
    depth_ax.xaxis.set_major_formatter(dates.DateFormatter("%H:%M:%S"))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
