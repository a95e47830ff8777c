"""``ipx feed`` (ticker and JSON lines) and ``ipx chart`` against a live publisher."""

from __future__ import annotations

import argparse
import json

import pytest
import zmq

import marketdata.cli
from marketdata.chart import draw, record
from marketdata.cli import add_subcommands
from marketdata.client import FeedClient
from tests.marketdata import IIDS, FeedServer, make_core, random_session


@pytest.fixture
def server():
    ctx = zmq.Context()
    with FeedServer(ctx, make_core()) as srv:
        for batch in random_session(9, 600):
            srv.apply(batch)
        srv.call(lambda core, pub: None)  # every batch published
        yield srv
    ctx.destroy(linger=0)


def ipx(server: FeedServer, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ipx")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([argv[0], "--pub", server.pub_endpoint,
                              "--snapshot", server.snapshot_endpoint, *argv[1:]])
    return args.run(args)


def test_feed_json_streams_one_object_per_line_starting_with_each_snapshot(server, capsys):
    assert ipx(server, "feed", "--json", "--count", "16", "--seconds", "5") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 16
    for iid in IIDS:  # each channel's state but the auction's (no call yet), then Synced
        types = [line["type"] for line in lines if line.get("instrument") == iid]
        assert set(types) >= {"InstrumentStatus", "Trades", "DepthUpdate", "OrderLevels",
                              "Quote", "DailyStats", "Bars", "Synced"}
    depth = next(line for line in lines if line["type"] == "DepthUpdate")
    assert depth["levels"]
    assert all(set(level) == {"side", "price", "qty", "orders"} for level in depth["levels"])
    assert {level["side"] for level in depth["levels"]} <= {"BUY", "SELL"}
    trades = next(line for line in lines if line["type"] == "Trades" and line["trades"])
    assert set(trades["trades"][0]) == {"trade_id", "price", "qty", "aggressor", "ts"}
    status = next(line for line in lines if line["type"] == "InstrumentStatus")
    assert status["phase"] == "CONTINUOUS"


def test_feed_ticker_shows_a_row_per_instrument(server, capsys):
    assert ipx(server, "feed", "--seconds", "0.5") == 0
    screen = capsys.readouterr().out.splitlines()
    assert screen[-3].split()[:2] == ["instrument", "phase"]
    assert [row.split()[0] for row in screen[-2:]] == list(IIDS)
    assert all(row.split()[1] == "continuous" for row in screen[-2:])


def test_feed_ticker_stops_after_count_updates(server, capsys):
    assert ipx(server, "feed", "TST-B", "--count", "3", "--seconds", "5") == 0
    assert capsys.readouterr().out.splitlines()[-1].split()[0] == "TST-B"


def test_chart_writes_a_png_of_the_session(server, tmp_path, capsys):
    out = tmp_path / "chart.png"
    assert ipx(server, "chart", "TST-A", "-o", str(out), "--seconds", "0.3") == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert capsys.readouterr().out.strip() == str(out)


def test_chart_recording_when_the_quote_is_unchanged_then_it_reaches_the_last_heartbeat(server):
    ctx = zmq.Context()
    client = FeedClient(ctx, server.pub_endpoint, server.snapshot_endpoint)
    try:
        rec = record(client, "TST-A", 0.3)  # after the session: one quote, from the snapshot
    finally:
        client.close()
        ctx.destroy(linger=0)
    (first_ts, bid, ask), (end_ts, *last) = rec.quotes
    assert bid and ask and last == [bid, ask]  # carried on, so the step line has a length
    assert end_ts == client.last_heartbeat_ns > first_ts
    assert rec.depth[-1][0] == end_ts and rec.depth[-1][1:] == rec.depth[-2][1:]


def test_feed_when_no_server_answers_then_exits_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(marketdata.cli, "CONNECT_TIMEOUT_S", 0.2)
    parser = argparse.ArgumentParser(prog="ipx")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    snapshot = f"ipc://{tmp_path}/snap"
    args = parser.parse_args(["feed", "--pub", f"ipc://{tmp_path}/pub", "--snapshot", snapshot])

    with pytest.raises(SystemExit) as exited:
        args.run(args)

    assert str(exited.value).startswith(f"ipx feed: no answer from the snapshot port {snapshot}")


def test_chart_when_the_market_is_untouched_then_no_sample_at_time_zero_and_a_png(tmp_path):
    ctx = zmq.Context()
    with FeedServer(ctx, make_core()) as srv:  # listed, never traded nor quoted
        client = FeedClient(ctx, srv.pub_endpoint, srv.snapshot_endpoint)
        try:
            rec = record(client, IIDS[0], 0.3)
        finally:
            client.close()
    ctx.destroy(linger=0)

    assert (rec.quotes, rec.trades, rec.bars) == ([], [], [])
    assert all(sample[1:] == (0, 0) for sample in rec.depth)
    out = draw(rec, tmp_path / "empty.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_instruments_when_listed_then_a_row_each_with_its_ip_scope(server, capsys):
    assert ipx(server, "instruments") == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split()[:4] == ["instrument", "kind", "ip", "type"]
    assert [row.split()[0] for row in rows] == list(IIDS)

    assert ipx(server, "instruments", "--json") == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    core = make_core()
    for got in listed:
        want = core.book(got["instrument_id"]).instrument
        assert (got["kind"], got["ip_type"], got["right"], got["territory"]) == (
            want.kind, want.ip_type, want.right, list(want.territory)
        )
