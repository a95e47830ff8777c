"""The command-line clients over real sockets. `ipx order` carries every order field a broker
may set: iceberg peak, post-only and GTD expiry; stop price and self-trade prevention; minimum
quantity. `ipx admin` prints what a command caused as named events."""

from __future__ import annotations

import json

import pytest

from engine.codes import Reason
from engine.messages import StpMode
from gateway.cli import expiry_ns, main
from tests.gateway.conftest import INSTRUMENT

EXPIRY = "2030-01-01T16:00:00+08:00"


def _order(harness, capsys, *args: str) -> list[dict]:
    """Run one `ipx order` as ALICE and return the responses it printed."""
    endpoint, key_dir = harness.server.order_endpoint, str(harness.key_dir)
    status = main([
        "order", *args, "-p", "ALICE", "--endpoint", endpoint, "--key-dir", key_dir,
        "--wait", "300",
    ])
    assert status == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_order_cli_when_every_field_given_then_the_book_holds_them(harness, capsys):
    (iceberg,) = _order(
        harness, capsys, "sell", INSTRUMENT, "10", "4900", "--display-qty", "2", "--post-only",
        "--tif", "gtd", "--expire", EXPIRY,
    )
    (stop,) = _order(
        harness, capsys, "buy", INSTRUMENT, "5", "4860", "--type", "stop_limit",
        "--stop-price", "4850", "--stp", "cancel_maker",
    )
    assert (iceberg["exec_type"], stop["exec_type"]) == ("NEW", "NEW")

    book = harness.server.core.book(INSTRUMENT)
    resting = book.orders[iceberg["order_id"]]
    assert (resting.leaves, resting.visible, resting.post_only) == (10, 2, True)
    assert resting.expire_ts == expiry_ns(EXPIRY) == 1_893_484_800_000_000_000
    (pending,) = book.pending_stops()
    assert (pending.order_id, pending.stop_price, pending.price) == (stop["order_id"], 4850, 4860)
    assert pending.stp == StpMode.CANCEL_MAKER

    ioc = _order(
        harness, capsys, "buy", INSTRUMENT, "20", "4900", "--tif", "ioc", "--min-qty", "15"
    )
    assert [(r["exec_type"], r["reason"]) for r in ioc] == [
        ("NEW", "NONE"), ("CANCELLED", Reason.MIN_QTY_NOT_MET.name)
    ]
    assert book.orders[iceberg["order_id"]].leaves == 10


def test_admin_cli_when_day_ends_then_prints_each_event_by_name(harness, capsys):
    (order,) = _order(harness, capsys, "buy", INSTRUMENT, "3", "4800")
    admin = ["--endpoint", harness.server.admin_endpoint, "--key-dir", str(harness.key_dir)]

    assert main(["admin", "endofday", *admin]) == 0
    (ack,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert (ack["type"], ack["reason"]) == ("AdminAck", "NONE")
    done, level = ack["events"][:2]  # then the call instrument's fresh indication
    assert done == {
        "type": "OrderDone", "seq": ack["seq"], "ts": done["ts"], "instrument": INSTRUMENT,
        "order_id": order["order_id"], "participant": "ALICE", "status": "EXPIRED",
        "reason": "EXPIRED_END_OF_DAY", "leaves_qty": 3,
    }
    assert (level["type"], level["side"], level["price"], level["qty"]) == (
        "BookLevelChanged", "BUY", 4800, 0
    )


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["halt"], "usage: ipx admin halt INSTRUMENT (missing arguments)"),
        (["refprice", INSTRUMENT, "abc"], "usage: ipx admin refprice INSTRUMENT PRICE (invalid "),
        (["phase", INSTRUMENT, "lunch"], "usage: ipx admin phase INSTRUMENT PHASE (no phase "),
        (["fx", "USD"], "usage: ipx admin fx CCY RATE [CCY RATE ...] (the whole table, every "
                        "currency in use) (each currency needs its rate)"),
        (["line", "BOB", "CNY", "100"], "usage: ipx admin line PARTICIPANT CCY LIMIT "
                                        "GUARANTOR[=SHARE_BP] ... (limit in minor units) (a "
                                        "line needs at least one guarantor)"),
        (["credit", "BOB", "ALICE"], "usage: ipx admin credit [PARTICIPANT]"),
        (["logout"], "usage: ipx admin logout PARTICIPANT"),
    ],
)
def test_admin_cli_when_arguments_wrong_then_usage_before_connecting(argv, problem, tmp_path):
    with pytest.raises(SystemExit) as exited:  # no server, no keys: refused before either
        main(["admin", *argv, "--key-dir", str(tmp_path)])

    assert str(exited.value).startswith(problem)


def test_order_cli_when_keys_missing_then_exits_naming_the_file(tmp_path):
    with pytest.raises(SystemExit) as exited:
        main(["order", "status", "1", "--key-dir", str(tmp_path)])

    assert str(exited.value) == f"ipx order: Invalid certificate file: {tmp_path / 'server.key'}"


def test_quote_cli_when_a_price_is_not_an_integer_then_exits_saying_so(tmp_path):
    with pytest.raises(SystemExit) as exited:
        main(["quote", INSTRUMENT, "48.2", "10", "4830", "10", "--key-dir", str(tmp_path)])

    assert str(exited.value).startswith("ipx quote: prices and quantities are integers")


def test_order_status_cli_when_asked_then_prints_the_status_and_returns_at_once(harness, capsys):
    (order,) = _order(harness, capsys, "buy", INSTRUMENT, "3", "4800")
    endpoint, key_dir = harness.server.order_endpoint, str(harness.key_dir)
    # --wait far beyond the test's patience: the answer itself ends the command.
    status = main([
        "order", "status", str(order["cl_ord_id"]), "-p", "ALICE", "--endpoint", endpoint,
        "--key-dir", key_dir, "--wait", "600000",
    ])
    assert status == 0
    (report,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (report["exec_type"], report["leaves_qty"]) == ("ORDER_STATUS", 3)
