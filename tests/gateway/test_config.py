"""The operator's server config: the example in docs/ loads, its relative paths follow the file,
and it serves; a misspelt or mistyped field stops `ipx serve` with the field named."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from gateway import protocol as p
from gateway.auth import ensure_key_pair
from gateway.cli import main
from gateway.client import Client
from gateway.config import SERVER_KEY, load_config
from gateway.server import Server, run_in_thread

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "server.example.toml"


def test_example_config_when_loaded_then_paths_follow_the_file_and_it_serves(tmp_path):
    config = load_config(EXAMPLE)
    repo = EXAMPLE.parent.parent
    assert Path(config.instruments_file).resolve() == repo / "engine/data/demo_instruments.toml"
    assert Path(config.risk_file).resolve() == repo / "risk/data/demo_risk.toml"
    assert Path(config.key_dir).resolve() == repo / "var/keys"
    assert (config.feed_curve, config.risk_enabled, config.fsync) == (True, True, "batch")

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
    ],
)
def test_serve_when_config_field_wrong_then_exits_naming_it(tmp_path, text, problem):
    config = tmp_path / "exchange.toml"
    config.write_text(text)

    with pytest.raises(SystemExit) as exited:
        main(["serve", "--config", str(config)])

    assert str(exited.value) == f"ipx serve: {config}: {problem}"
