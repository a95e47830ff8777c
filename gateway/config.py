"""Server configuration: endpoints, keys, participants and session limits, loadable from TOML.

Public names: :class:`ServerConfig`, :func:`load_config`, :func:`demo_config`,
:func:`default_key_dir`, :data:`DEMO_PARTICIPANTS`.

Keys live in one directory: ``server.key_secret`` (the server's pair), ``admin/NAME.key`` for
operators and ``participants/ID.key`` for brokers and market makers (public halves; a demo
directory also holds the secret halves so the demo clients can sign in). Participants and
admins may also be listed inline in the config as ``id = "Z85 public key"``.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from gateway.auth import ensure_key_pair, load_public_keys
from gateway.mmp import MmpLimits

DEMO_MAKERS = ("MM-HAINAN-IP", "MM-PEARL-RIVER")
DEMO_BROKERS = ("BRK-SANYA-SEC", "BRK-HAIKOU-CAP", "BRK-SHENZHEN-TECH")
DEMO_SELLERS = ("HN-SEED-INSTITUTE",)
"""Issuers that sell in the demo's auctions (the rice variety's breeder)."""
DEMO_PARTICIPANTS = DEMO_MAKERS + DEMO_BROKERS + DEMO_SELLERS
DEMO_ADMIN = "ops"
SERVER_KEY = "server"


class ServerConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Everything ``ipx serve`` needs; every field has a working loopback default."""

    order_endpoint: str = "tcp://127.0.0.1:5555"
    feed_endpoint: str = "tcp://127.0.0.1:5556"
    snapshot_endpoint: str = "tcp://127.0.0.1:5557"
    admin_endpoint: str = "tcp://127.0.0.1:5558"
    feed_enabled: bool = True
    """Start the market-data publisher (when the marketdata package provides it)."""
    feed_curve: bool = False
    """Licensed data: the feed requires CURVE keys of registered participants (off in the demo)."""
    risk_enabled: bool = True
    """Run the credit-guarantee risk engine in the core (pre-trade checks, reservations)."""
    risk_file: str = ""
    """A TOML risk setup (guarantors, lines, limits, holdings); empty for the demo setup."""
    instruments_file: str = ""
    """A TOML instrument file; empty for the embedded demo instruments."""
    key_dir: str = ""
    """Directory of the server key pair and the participants' and admins' public keys."""
    participants: dict[str, str] = {}
    """Participant id -> Z85 public key, in addition to ``key_dir/participants/*.key``."""
    admins: dict[str, str] = {}
    """Admin name -> Z85 public key, in addition to ``key_dir/admin/*.key``."""
    mmp: dict[str, MmpLimits] = {}
    """Market maker protection per participant (``gateway.mmp``): pull its quotes once
    ``qty`` fills on them within ``window_ms``; none for participants not listed."""
    throttle_rate: int = 5_000
    """Requests per second per session, on average (token bucket refill)."""
    throttle_burst: int = 1_000
    """Requests a session may send at once (token bucket size)."""
    heartbeat_ms: int = 1_000
    """Heartbeat interval for sessions that ask for 0; the session ends after 3 silent ones."""
    min_heartbeat_ms: int = 100
    max_heartbeat_ms: int = 60_000
    loop_cpu: int = -1
    """Run the server loop on this core and libzmq's I/O threads on the others
    (``gateway.affinity``); -1 leaves placement to the scheduler."""
    batch_budget: int = 512
    """Most messages drained from a socket before the batch is sequenced and applied."""
    max_message_size: int = 16_384
    """Longer request frames are rejected OVERSIZED (the transport drops frames over 1 MiB)."""
    tick_interval_ms: int = 100
    """Most often the server sequences a clock Tick, and only when one is due (a GTD expiry,
    the end of an auction or interruption, a bar's close)."""
    data_dir: str = ""
    """Journal, snapshots and evidence (docs/DURABILITY.md); empty: nothing survives a stop."""
    fsync: str = "batch"
    """``batch`` (fsync every batch before acknowledging it), ``interval`` or ``none``."""
    fsync_interval_ms: int = 5
    """With ``fsync = "interval"``: the longest an acknowledged batch waits for its fsync."""
    segment_bytes: int = 64 << 20
    """Journal segments rotate once they reach this size."""
    snapshot_every: int = 200_000
    """Commands between snapshots (0: only at a clean stop)."""
    sth_interval_ms: int = 1_000
    """How often the trade tree's head is signed and journaled, when trades were added."""
    sth_key_file: str = ""
    """The tree-head signing key (hex private and public); default ``data_dir/sth.key``."""

    def key_path(self) -> Path:
        return Path(self.key_dir) if self.key_dir else default_key_dir()

    def participant_keys(self) -> dict[str, bytes]:
        keys = load_public_keys(self.key_path() / "participants")
        keys.update({name: key.encode() for name, key in self.participants.items()})
        return keys

    def admin_keys(self) -> dict[str, bytes]:
        keys = load_public_keys(self.key_path() / "admin")
        keys.update({name: key.encode() for name, key in self.admins.items()})
        return keys


def default_key_dir() -> Path:
    """The per-user demo key directory: ``$XDG_DATA_HOME/ipx/demo-keys`` (or ~/.local/share)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "ipx" / "demo-keys"


def load_config(path: str | Path) -> ServerConfig:
    """Read a TOML config; relative key, instrument, data and signing-key paths follow it."""
    path = Path(path)
    config = msgspec.toml.decode(path.read_bytes(), type=ServerConfig)
    here = path.parent
    changes = {}
    if config.key_dir and not Path(config.key_dir).is_absolute():
        changes["key_dir"] = str(here / config.key_dir)
    for name in ("instruments_file", "risk_file", "data_dir", "sth_key_file"):
        value = getattr(config, name)
        if value and not Path(value).is_absolute():
            changes[name] = str(here / value)
    return msgspec.structs.replace(config, **changes) if changes else config


def demo_config(key_dir: Path | None = None, **overrides) -> ServerConfig:
    """A config whose key directory holds the server, an admin and every demo participant.

    Missing key pairs are created, existing ones reused, so ``ipx serve``, ``ipx order``,
    ``ipx quote`` and the demo find the same keys run after run.
    """
    key_dir = key_dir or default_key_dir()
    ensure_key_pair(key_dir, SERVER_KEY)
    ensure_key_pair(key_dir / "admin", DEMO_ADMIN)
    for participant in DEMO_PARTICIPANTS:
        ensure_key_pair(key_dir / "participants", participant)
    return ServerConfig(key_dir=str(key_dir), **overrides)
