"""Fixtures: a real server on ipc sockets in a temp dir, clients with real CURVE keys.

The server runs on a background thread; ``run_in_thread`` returns once it listens, and every
wait below is a poll with a timeout, never a sleep.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq

from engine.messages import Event
from gateway.auth import ensure_key_pair, load_key_pair
from gateway.client import AdminClient, Client
from gateway.config import SERVER_KEY, ServerConfig
from gateway.journal import MemoryJournal
from gateway.server import Server, run_in_thread

PARTICIPANTS = ("ALICE", "BOB", "CAROL")
INSTRUMENT = "RPU-GUZHENG-CAT"
"""Embedded demo instrument: tick 10, lot 1, reference 4,820, band 15 %."""


def wait_until(condition, timeout: float = 3.0) -> None:
    """Poll a condition on the server's state (it runs on another thread) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition never held")
        time.sleep(0.01)  # polling a condition with a deadline, not synchronising by sleep


class RecordingSink:
    """An event sink that hands every event to the test thread through a queue."""

    def __init__(self) -> None:
        self.events: queue.Queue[Event] = queue.Queue()

    def sockets(self) -> list[zmq.Socket]:
        return []

    def on_readable(self, sock: zmq.Socket) -> None:
        raise AssertionError("no sockets")

    def on_events(self, events: list[Event], ts: int | None = None) -> None:
        for event in events:
            self.events.put(event)

    def on_idle(self, now_ns: int) -> None:
        return None

    def next_deadline(self) -> None:
        return None

    def close(self) -> None:
        return None

    def wait_for(self, predicate, timeout: float = 3.0) -> Event:
        while True:
            event = self.events.get(timeout=timeout)
            if predicate(event):
                return event


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory) -> Path:
    keys = tmp_path_factory.mktemp("keys")
    ensure_key_pair(keys, SERVER_KEY)
    ensure_key_pair(keys / "admin", "ops")
    for name in (*PARTICIPANTS, "MALLORY"):
        ensure_key_pair(keys / "participants", name)
    # MALLORY holds a key pair the server never learns about.
    (keys / "participants" / "MALLORY.key").rename(keys / "MALLORY.key")
    (keys / "participants" / "MALLORY.key_secret").rename(keys / "MALLORY.key_secret")
    return keys


def make_config(key_dir: Path, tmp_path: Path, **overrides) -> ServerConfig:
    """A loopback config; risk is off unless a test turns it on (test_risk_e2e.py does)."""
    return ServerConfig(
        key_dir=str(key_dir),
        order_endpoint=f"ipc://{tmp_path}/orders",
        admin_endpoint=f"ipc://{tmp_path}/admin",
        **{"risk_enabled": False, **overrides},
    )


class Harness:
    """A running server plus helpers to open clients against it."""

    def __init__(self, server: Server, key_dir: Path, sink: RecordingSink) -> None:
        self.server = server
        self.key_dir = key_dir
        self.sink = sink
        self.context = zmq.Context()
        self.server_key = load_key_pair(key_dir, SERVER_KEY).public
        self.clients: list = []

    def client(self, name: str, logon: bool = True, **kw) -> Client:
        folder = self.key_dir if name == "MALLORY" else self.key_dir / "participants"
        client = Client(
            self.server.order_endpoint,
            self.server_key,
            load_key_pair(folder, name),
            context=self.context,
            routing_id=kw.pop("routing_id", None),
        )
        self.clients.append(client)
        if logon:
            client.logon(**kw)
        return client

    def admin(self) -> AdminClient:
        key = load_key_pair(self.key_dir / "admin", "ops")
        client = AdminClient(self.server.admin_endpoint, self.server_key, key, context=self.context)
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.context.term()


@pytest.fixture
def harness(key_dir, tmp_path, request) -> Iterator[Harness]:
    overrides = getattr(request, "param", {})
    sink = RecordingSink()
    journal = MemoryJournal()
    server = Server(make_config(key_dir, tmp_path, **overrides), journal=journal, sinks=[sink])
    thread = run_in_thread(server)
    h = Harness(server, key_dir, sink)
    try:
        yield h
    finally:
        h.close()
        server.stop()
        thread.join(5)
        assert not thread.is_alive(), "server did not stop"
