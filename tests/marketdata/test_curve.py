"""A licensed feed: only subscribers whose CURVE key the exchange allowed receive anything."""

from __future__ import annotations

from pathlib import Path

import pytest
import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

from marketdata.client import FeedClient
from marketdata.publisher import MDATA_DOMAIN
from tests.marketdata import IIDS, WAIT_S, FeedServer, make_core


@pytest.fixture
def ctx():
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


def test_licensed_feed_serves_allowed_keys_and_ignores_others(ctx, tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    public_file, secret_file = zmq.auth.create_certificates(tmp_path, "analyst")
    (allowed / "analyst.key").write_bytes(Path(public_file).read_bytes())
    analyst_public, analyst_secret = zmq.auth.load_certificate(secret_file)
    server_public, server_secret = zmq.curve_keypair()
    stranger_public, stranger_secret = zmq.curve_keypair()
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve(domain=MDATA_DOMAIN.decode(), location=str(allowed))
    try:
        with FeedServer(ctx, make_core(), curve=(server_public, server_secret)) as server:
            endpoints = (server.pub_endpoint, server.snapshot_endpoint)
            licensed = FeedClient(ctx, *endpoints, IIDS,
                                  curve=(analyst_public, analyst_secret, server_public))
            stranger = FeedClient(ctx, *endpoints, IIDS,
                                  curve=(stranger_public, stranger_secret, server_public))
            plain = FeedClient(ctx, *endpoints, IIDS)
            assert licensed.wait_synced(WAIT_S)
            assert not stranger.wait_synced(0.3)
            assert not plain.wait_synced(0.1)
            assert stranger.snapshots == plain.snapshots == 0
            for client in (licensed, stranger, plain):
                client.close()
    finally:
        auth.stop()
