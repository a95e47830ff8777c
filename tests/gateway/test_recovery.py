"""Recovery: snapshot plus journal tail equals a clean replay, and the gateway remembers.

The server is built but not run: the tests feed its gateway frames and run its batches by
hand (``Driver``), so a "crash" is simply abandoning it without the clean stop's snapshot.
"""

from __future__ import annotations

import pytest

from engine.codes import Reason
from engine.messages import OrderType
from gateway import protocol as p
from gateway import snapshots
from gateway.codec import encode
from gateway.recovery import replay_journal
from gateway.server import Server
from gateway.snapshots import snapshot_files
from tests.gateway.conftest import INSTRUMENT, make_config
from tests.gateway.test_risk_e2e import RISK_SETUP

ExecType = p.ExecType


class Driver:
    """A server whose loop the test turns: one request, one batch."""

    def __init__(self, config) -> None:
        self.server = self.build(config)
        self.server.recover()
        self.gateway = self.server.gateway
        self.store = self.server.store
        self.turn()

    def build(self, config) -> Server:
        """The server, with whatever sinks a test adds before it recovers."""
        return Server(config)

    def turn(self) -> dict[bytes, list]:
        gateway = self.gateway
        seq = gateway.seq
        events = gateway.process()
        self.server.after_batch(events, gateway.seq != seq, 0)
        return gateway.take_replies()[0]

    def logon(self, name: str) -> list:
        self.gateway.on_order_frame(name.encode(), name, encode(p.Logon(1, 0, False)), 0)
        return self.turn()[name.encode()]

    def send(self, name: str, msg: p.Msg) -> list:
        self.gateway.on_order_frame(name.encode(), name, encode(msg), 0)
        return self.turn().get(name.encode(), [])

    def crash(self) -> None:
        """Stop without the clean stop's last snapshot and tree head."""
        self.store.wal.close()
        self.server.authenticator.stop()
        self.server.context.term()

    def stop(self) -> None:
        self.server.close()


@pytest.fixture
def config(key_dir, tmp_path):
    risk = tmp_path / "risk.toml"
    risk.write_text(RISK_SETUP)
    return make_config(
        key_dir, tmp_path, risk_enabled=True, risk_file=str(risk),
        data_dir=str(tmp_path / "data"), snapshot_every=6, sth_interval_ms=0,
    )


def trade_a_little(d: Driver) -> None:
    """Icebergs, a pending stop, an amend, a cancel and fills."""
    d.logon("BOB")
    d.logon("CAROL")
    d.send("BOB", p.NewOrder(101, INSTRUMENT, p.Side.SELL, 20, 4820, display_qty=5))
    d.send("CAROL", p.NewOrder(201, INSTRUMENT, p.Side.BUY, 7, 4820))
    d.send("CAROL", p.NewOrder(202, INSTRUMENT, p.Side.BUY, 2, 0, OrderType.STOP,
                               stop_price=4900))
    d.send("CAROL", p.NewOrder(203, INSTRUMENT, p.Side.BUY, 4, 4780))
    d.send("CAROL", p.AmendOrder(204, 203, 3, 4790))
    d.send("CAROL", p.NewOrder(205, INSTRUMENT, p.Side.BUY, 1, 4700))
    d.send("CAROL", p.CancelOrder(206, 205))
    d.send("BOB", p.NewOrder(102, INSTRUMENT, p.Side.SELL, 1, 4850))


def test_restart_when_crashed_then_state_equals_a_clean_replay(config):
    d = Driver(config)
    trade_a_little(d)
    before = d.server.core.fingerprint()
    book = d.server.core.book(INSTRUMENT)
    assert book.stops_buy and any(o.peak for o in book.orders.values())
    d.crash()

    again = Driver(config)

    replayed, tree, _ = replay_journal(again.store.wal.directory)
    assert again.store.recovery.snapshot  # it started from a snapshot, then the tail
    assert again.server.core.fingerprint() == before == replayed.fingerprint()
    assert len(again.store.trades.tree) == len(tree) > 0
    assert again.store.trades.tree.root() == tree.root()
    again.server.core.check()  # books and every credit reservation agree
    again.stop()


def test_restart_when_client_order_id_reused_then_still_duplicate(config):
    d = Driver(config)
    trade_a_little(d)
    d.crash()
    d = Driver(config)
    d.logon("CAROL")

    (report,) = d.send("CAROL", p.NewOrder(203, INSTRUMENT, p.Side.BUY, 1, 4700))

    assert report.reason == Reason.DUPLICATE_CL_ORD_ID
    d.stop()


def test_restart_when_old_order_fills_then_report_reaches_owner_new_session(config):
    d = Driver(config)
    trade_a_little(d)
    d.crash()
    d = Driver(config)
    d.logon("CAROL")
    d.logon("BOB")

    d.gateway.on_order_frame(b"BOB", "BOB", encode(p.NewOrder(103, INSTRUMENT, p.Side.SELL,
                                                              3, 4790)), 0)
    out = d.turn()

    fill = next(m for m in out[b"CAROL"] if type(m) is p.ExecutionReport and m.last_qty)
    assert fill.cl_ord_id == 204 and fill.orig_cl_ord_id == 203  # the amended order
    assert fill.cum_qty == 3 and fill.ord_status == p.OrdStatus.FILLED
    assert fill.leaf_index >= 0 and len(fill.leaf_hash) == 32
    (status,) = d.send("CAROL", p.OrderStatus(201))
    assert status.exec_type == ExecType.ORDER_STATUS and status.cum_qty == 7  # from the iceberg
    d.stop()


def test_restart_when_snapshot_tampered_then_ignored_and_journal_replayed(config):
    d = Driver(config)
    trade_a_little(d)
    d.stop()
    snap_dir = d.store.snapshot_dir
    for path in snapshot_files(snap_dir):
        data = bytearray(path.read_bytes())
        data[-10] ^= 0x01
        path.write_bytes(bytes(data))

    again = Driver(config)

    assert again.store.recovery.snapshot == ""
    replayed, _, _ = replay_journal(again.store.wal.directory)
    assert again.server.core.fingerprint() == replayed.fingerprint()
    again.stop()


def test_restart_when_snapshot_in_older_state_format_then_refused_by_name_and_replayed(
    config, monkeypatch, caplog
):
    d = Driver(config)
    trade_a_little(d)
    before = d.server.core.fingerprint()
    d.stop()
    monkeypatch.setattr(snapshots, "STATE_FORMAT", snapshots.STATE_FORMAT + 1)

    again = Driver(config)

    assert again.store.recovery.snapshot == ""
    assert f"state format {snapshots.STATE_FORMAT - 1}, this code reads" in caplog.text
    assert again.server.core.fingerprint() == before
    again.server.core.check()
    again.stop()


def test_clean_stop_then_restart_replays_nothing(config):
    d = Driver(config)
    trade_a_little(d)
    d.stop()

    again = Driver(config)

    assert again.store.recovery.snapshot
    assert again.gateway.seq == d.gateway.seq
    assert again.server.core.fingerprint() == d.server.core.fingerprint()
    again.stop()


class _BrokenSink:
    """A durable sink that cannot resume: recovery fails part way."""

    state_key = "broken"

    def sockets(self) -> list:
        return []

    def close(self) -> None:
        return None

    def capture(self) -> object:
        return None

    def resume(self, state, epoch: int) -> None:
        raise RuntimeError("cannot resume")

    def replay(self, events, ts: int) -> None:
        return None


def test_recovery_when_it_fails_then_close_writes_no_snapshot(config):
    d = Driver(config)
    trade_a_little(d)
    d.crash()
    snapshots = snapshot_files(d.store.snapshot_dir)
    server = Server(config)
    server.add_sink(_BrokenSink())

    with pytest.raises(RuntimeError):
        server.recover()
    server.close()

    assert snapshot_files(d.store.snapshot_dir) == snapshots
    again = Driver(config)  # the journal still recovers, to the state before the crash
    assert again.server.core.fingerprint() == d.server.core.fingerprint()
    again.stop()
