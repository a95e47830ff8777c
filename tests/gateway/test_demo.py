"""The main job, ``make demo``, run for two seconds: it trades, prints the best prices after
every batch that traded, and no firm trades with itself in continuous trading."""

from __future__ import annotations

import re

from gateway import demo

TRADE = re.compile(r"seq +(\d+) TRADE (\S+) .* (\S+) <- (\S+)$")
BEST = re.compile(r"seq +(\d+) BEST  (\S+) +bid (.*) / ask (.*)$")


def _price(side: str) -> float | None:
    """The price of "qty @ price", None for an empty side ("-")."""
    return float(side.split("@")[1].replace(",", "")) if "@" in side else None


def test_demo_when_run_then_trades_are_followed_by_best_prices_and_none_is_a_self_trade():
    lines: list[str] = []
    summary = demo.run(seconds=2.0, echo=lines.append)

    assert summary["errors"] == 0
    assert summary["trades"] > 0
    trades = [(k, m.groups()) for k, line in enumerate(lines) if (m := TRADE.match(line))]
    bests = [(k, m.groups()) for k, line in enumerate(lines) if (m := BEST.match(line))]
    assert len(trades) == summary["trades"]
    for k, (seq, instrument, buyer, seller) in trades:
        assert buyer != seller or instrument == demo.CALL_INSTRUMENT  # an uncross has no STP
        # the batch's best-prices line for this instrument follows, at this trade's seq or later
        after = next((best for j, best in bests if j > k and best[1] == instrument), None)
        assert after is not None and int(after[0]) >= int(seq)
    for _, (_, instrument, bid, ask) in bests:
        bid_price, ask_price = _price(bid), _price(ask)
        if bid_price and ask_price and instrument != demo.CALL_INSTRUMENT:
            assert bid_price < ask_price  # a call's orders may wait crossed for the uncross
    # The operator's credit table closes the summary: every broker's line, used above zero
    # by someone who traded.
    table = lines[lines.index(next(line for line in lines if line.startswith("credit after"))):]
    rows = {row.split()[0]: row.split() for row in table[2:] if not row.startswith("guarantor")}
    assert set(demo.DEMO_BROKERS) <= set(rows)
    assert any(float(rows[name][3].replace(",", "")) > 0 for name in demo.DEMO_BROKERS)
