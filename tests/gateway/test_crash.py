"""Crash test: ``ipx serve`` as a subprocess under load, killed with SIGKILL and restarted.

Invariants, checked against a clean replay of the journal after the last restart:
every order a client saw acknowledged was accepted (and is open, filled or cancelled);
every fill a client saw is a trade of the replay, seen once; the books and every credit
reservation agree (``Core.check``); each restart's fingerprint equals a clean replay up to
the sequence number it recovered; ``ipx verify`` passes.
"""

from __future__ import annotations

import random
import selectors
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from engine.messages import OrderAccepted, Trade
from gateway import protocol as p
from gateway.audit import verify
from gateway.auth import load_key_pair
from gateway.client import Client
from gateway.config import SERVER_KEY
from gateway.records import Genesis, Sequenced
from gateway.recovery import fresh_core, journal_records, replay_journal
from tests.gateway.conftest import INSTRUMENT

KILLS = 3
SEED = 20260707
READY_TIMEOUT_S = 20.0
RISK = """
[fx]
HKD = "0.91180"

[[guarantors]]
id = "BANK"
name = "Test bank"
kind = "bank"
currency = "CNY"
capacity = 100_000_000_000

[[participants]]
id = "BOB"
limit = 3_000_000_000
backers = [{ guarantor = "BANK" }]
kinds = ["royalty_participation"]
holdings = { "RPU-GUZHENG-CAT" = 1_000_000 }

[[participants]]
id = "CAROL"
limit = 3_000_000_000
backers = [{ guarantor = "BANK" }]
kinds = ["royalty_participation"]
"""


class ServerProcess:
    """``ipx serve`` in a child process; :meth:`start` returns once it prints ready."""

    def __init__(self, config_path, feed: bool = False) -> None:
        self.config_path = config_path
        self.feed = feed
        self.proc: subprocess.Popen | None = None

    def start(self) -> tuple[int, str]:
        code = "from gateway.cli import main; raise SystemExit(main())"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, "serve", "--config", str(self.config_path),
             *(() if self.feed else ("--no-feed",))],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + READY_TIMEOUT_S
            while time.monotonic() < deadline:
                if selector.select(deadline - time.monotonic()):
                    line = self.proc.stdout.readline()
                    if line.startswith("ready "):
                        fields = dict(item.split("=", 1) for item in line.split()[1:])
                        return int(fields["seq"]), fields["fingerprint"]
                    if not line:
                        break
        self.kill()
        raise TimeoutError("the server did not become ready")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(10) == 0


def server_config(key_dir, tmp_path, snapshot_every: int, feed: bool = False):
    """A config file for ``ipx serve`` on ipc sockets in ``tmp_path``, with a data directory,
    the risk setup above and, if ``feed``, the market-data feed."""
    risk = tmp_path / "risk.toml"
    risk.write_text(RISK)
    config = tmp_path / "server.toml"
    feed_lines = (
        f'feed_endpoint = "ipc://{tmp_path}/feed"\nsnapshot_endpoint = "ipc://{tmp_path}/snap"\n'
        if feed else "feed_enabled = false\n"
    )
    config.write_text(
        f'key_dir = "{key_dir}"\n'
        f'order_endpoint = "ipc://{tmp_path}/orders"\n'
        f'admin_endpoint = "ipc://{tmp_path}/admin"\n'
        f'risk_file = "{risk}"\n'
        f'data_dir = "{tmp_path / "data"}"\n'
        f"{feed_lines}throttle_rate = 1000000\nthrottle_burst = 100000\n"
        f"snapshot_every = {snapshot_every}\nsth_interval_ms = 50\n"
    )
    return config


@pytest.fixture
def exchange(key_dir, tmp_path):
    config = server_config(key_dir, tmp_path, snapshot_every=400)
    return ServerProcess(config), tmp_path / "data", f"ipc://{tmp_path}/orders"


class Trader:
    """One participant's client and what it was told: acknowledgements and fills."""

    def __init__(self, key_dir, name: str) -> None:
        self.key_dir = key_dir
        self.name = name
        self.acked: dict[int, int] = {}
        """cl_ord_id -> order id, from NEW execution reports."""
        self.fills: Counter = Counter()
        """(trade_id, qty, price) -> times reported."""
        self.client: Client | None = None

    def connect(self, endpoint: str) -> None:
        server = load_key_pair(self.key_dir, SERVER_KEY).public
        key = load_key_pair(self.key_dir / "participants", self.name)
        self.client = Client(endpoint, server, key)
        self.client.logon(heartbeat_ms=60_000, cancel_on_disconnect=False)

    def take(self, msg) -> None:
        if type(msg) is p.ExecutionReport:
            if msg.exec_type == p.ExecType.NEW:
                self.acked[msg.cl_ord_id] = msg.order_id
            if msg.last_qty:
                self.fills[(msg.trade_id, msg.last_qty, msg.last_px)] += 1

    def drain(self, timeout_ms: int) -> None:
        while (msg := self.client.recv(timeout_ms)) is not None:
            self.take(msg)

    def close(self) -> None:
        self.client.close()


def _clean_replay(data_dir):
    """Accepted order ids by participant and trades, from a clean replay of the journal."""
    core = None
    accepted: dict[int, str] = {}
    trades: dict[int, Trade] = {}
    for _, record in journal_records(data_dir / "journal"):
        if type(record) is Genesis:
            core = fresh_core(record)
        elif type(record) is Sequenced:
            for event in core.apply(record.cmd, record.seq, record.ts):
                if type(event) is OrderAccepted:
                    accepted[event.order_id] = event.participant
                elif type(event) is Trade:
                    assert event.trade_id not in trades
                    trades[event.trade_id] = event
    return core, accepted, trades


def test_sigkill_under_load_then_nothing_acknowledged_is_lost(exchange, key_dir):
    server, data_dir, endpoint = exchange
    rng = random.Random(SEED)
    traders = {name: Trader(key_dir, name) for name in ("BOB", "CAROL")}
    for round_ in range(KILLS + 1):
        seq, fingerprint = server.start()
        if round_:  # a recovered server: its state equals a clean replay up to its seq
            assert fingerprint == replay_journal(data_dir / "journal", seq)[0].fingerprint()
        for trader in traders.values():
            trader.connect(endpoint)
        if round_ == KILLS:
            break
        burst = rng.randrange(200, 800)
        for _ in range(burst):
            trader = traders[rng.choice(("BOB", "CAROL"))]
            side = p.Side.SELL if trader.name == "BOB" else p.Side.BUY
            trader.client.new_order(INSTRUMENT, side, rng.randint(1, 3),
                                    4820 + 10 * rng.randint(-3, 3))
        first = traders["CAROL"].client.recv(5000)  # at least one batch is journaled
        traders["CAROL"].take(first)
        server.kill()  # with orders still in flight
        for trader in traders.values():
            trader.drain(200)
            trader.close()
    # a clean stop; then every client observation against a clean replay
    for trader in traders.values():
        trader.close()
    server.stop()
    core, accepted, trades = _clean_replay(data_dir)
    core.check()  # books, and reservations and exposures against the orders and fills
    assert sum(len(t.acked) for t in traders.values()) > 0 and trades
    for trader in traders.values():
        for order_id in trader.acked.values():
            assert accepted.get(order_id) == trader.name
        for (trade_id, qty, price), times in trader.fills.items():
            trade = trades[trade_id]
            assert (trade.qty, trade.price, times) == (qty, price, 1)
    report = verify(data_dir)
    assert report.ok, report.problem
    assert report.fingerprint == core.fingerprint()
