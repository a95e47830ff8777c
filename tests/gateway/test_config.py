"""The operator's server config: the example in docs/ loads, its relative paths follow the file,
and it serves; a misspelt or mistyped field stops `ipx serve` with the field named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
import zmq

from gateway import protocol as p
from gateway.auth import ensure_key_pair
from gateway.cli import main
from gateway.client import Client
from gateway.config import SERVER_KEY, load_config
from gateway.mmp import MmpLimits
from gateway.server import Server, run_in_thread

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "server.example.toml"


def test_example_config_when_loaded_then_paths_follow_the_file_and_it_serves(tmp_path):
    config = load_config(EXAMPLE)
    repo = EXAMPLE.parent.parent
    assert Path(config.instruments_file).resolve() == repo / "engine/data/demo_instruments.toml"
    assert Path(config.risk_file).resolve() == repo / "risk/data/demo_risk.toml"
    assert Path(config.key_dir).resolve() == repo / "var/keys"
    assert (config.feed_curve, config.risk_enabled, config.fsync) == (True, True, "batch")
    assert config.mmp == {"MM-HAINAN-IP": MmpLimits(window_ms=1_000, qty=500, freeze_ms=0)}

    # Served with keys, data and sockets of its own: the example's belong to an operator.
    keys = tmp_path / "keys"
    server_key = ensure_key_pair(keys, SERVER_KEY).public
    broker = ensure_key_pair(keys / "participants", "BRK-SANYA-SEC")
    config = msgspec.structs.replace(
        config,
        key_dir=str(keys),
        data_dir=str(tmp_path / "data"),
        order_endpoint=f"ipc://{tmp_path}/orders",
        admin_endpoint=f"ipc://{tmp_path}/admin",
        feed_enabled=False,
    )
    server = Server(config)
    thread = run_in_thread(server)
    client = Client(server.order_endpoint, server_key, broker)
    try:
        client.logon()
        client.buy("ULR-5GSEP-26", 10, 124_000)
        report = client.wait_for(lambda m: type(m) is p.ExecutionReport, 3000)
        assert (report.exec_type, report.leaves_qty) == (p.ExecType.NEW, 10)
    finally:
        client.close()
        server.stop()
        thread.join(5)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('order_endpont = "ipc://x"\n', "Object contains unknown field `order_endpont`"),
        ('throttle_rate = "fast"\n', "Expected `int`, got `str` - at `$.throttle_rate`"),
        (
            "[mmp.MM-X]\nwindow_ms = 1_000\nqty = 0\n",
            "mmp needs window_ms > 0, qty > 0 and freeze_ms >= 0 - at `$.mmp[...]`",
        ),
    ],
)
def test_serve_when_config_field_wrong_then_exits_naming_it(tmp_path, text, problem):
    config = tmp_path / "exchange.toml"
    config.write_text(text)

    with pytest.raises(SystemExit) as exited:
        main(["serve", "--config", str(config)])

    assert str(exited.value) == f"ipx serve: {config}: {problem}"


@pytest.mark.parametrize("taken", ["--orders", "--admin"])
def test_serve_when_an_endpoint_is_taken_then_exits_naming_it_without_hanging(tmp_path, taken):
    ctx = zmq.Context()
    squatter = ctx.socket(zmq.ROUTER)
    squatter.bind("tcp://127.0.0.1:*")
    endpoint = squatter.last_endpoint.decode()
    endpoints = {"--orders": f"ipc://{tmp_path}/orders", "--admin": f"ipc://{tmp_path}/admin"}
    endpoints[taken] = endpoint
    try:  # its own process: a server that hung on the way out fails here, after 60 s
        run = subprocess.run(
            [sys.executable, "-c", "from gateway.cli import main; raise SystemExit(main())",
             "serve", "--key-dir", str(tmp_path / "keys"), "--no-feed",
             *(part for option in endpoints.items() for part in option)],
            capture_output=True, text=True, timeout=60, check=False,
        )
    finally:
        squatter.close(linger=0)
        ctx.term()

    assert run.returncode == 1
    assert run.stderr.splitlines()[-1] == f"ipx serve: Address already in use (addr='{endpoint}')"
