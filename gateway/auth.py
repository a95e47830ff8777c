"""CURVE keys and the ZAP authenticator that turns a client's key into its participant id.

Public names: :class:`KeyPair`, :func:`ensure_key_pair`, :func:`load_key_pair`,
:func:`load_public_keys`, :class:`ExchangeAuthenticator`.

The participant a message comes from is the ZAP ``User-Id`` of its connection, which this
authenticator sets to the name registered for the client's public key. A client cannot
choose it: it can only prove it holds the secret key. Each ZAP domain (``orders``,
``admin``, ``mdata``) has its own table of allowed keys, so a market-data key cannot enter
orders and an order key cannot reach the admin port. The domain string must equal the
socket's ``zap_domain``: the ``*`` fallback only applies to sockets without a domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils import z85

ORDERS = "orders"
ADMIN = "admin"
MDATA = "mdata"


class KeyPair(NamedTuple):
    """A CURVE key pair in Z85 text; ``secret`` is None when only the public half is known."""

    public: bytes
    secret: bytes | None


def ensure_key_pair(directory: Path, name: str) -> KeyPair:
    """Load ``name``'s key pair from ``directory``, creating it (mode 0600) if missing."""
    directory.mkdir(parents=True, exist_ok=True)
    secret_file = directory / f"{name}.key_secret"
    if not secret_file.exists():
        zmq.auth.create_certificates(directory, name)
        secret_file.chmod(0o600)
    return load_key_pair(directory, name)


def load_key_pair(directory: Path, name: str) -> KeyPair:
    """Load ``name.key_secret`` (or only ``name.key``) from ``directory``."""
    secret_file = directory / f"{name}.key_secret"
    path = secret_file if secret_file.exists() else directory / f"{name}.key"
    public, secret = zmq.auth.load_certificate(path)
    return KeyPair(public, secret)


def load_public_keys(directory: Path) -> dict[str, bytes]:
    """Every ``NAME.key`` public key in ``directory``, by name; empty if it does not exist."""
    if not directory.is_dir():
        return {}
    return {
        path.stem: zmq.auth.load_certificate(path)[0] for path in sorted(directory.glob("*.key"))
    }


class ExchangeAuthenticator(ThreadAuthenticator):
    """A ZAP handler with one allow-table per domain; User-Id = the key's registered name.

    Tables may grow while the server runs (:meth:`allow`); each update swaps in a new dict,
    so the ZAP thread never sees one half-written.
    """

    def __init__(self, context: zmq.Context) -> None:
        super().__init__(context)
        self._tables: dict[str, dict[bytes, str]] = {}
        self._names: dict[bytes, str] = {}

    def allow(self, domain: str, keys: Mapping[str, bytes | str]) -> None:
        """Admit ``keys`` (name -> Z85 public key) on sockets whose zap_domain is ``domain``."""
        table = dict(self._tables.get(domain, {}))
        names = dict(self._names)
        for name, key in keys.items():
            z = key.encode() if isinstance(key, str) else key
            if len(z85.decode(z)) != 32:
                raise ValueError(f"{name}: not a 40-character Z85 CURVE public key")
            if names.get(z, name) != name:
                raise ValueError(f"{name}: key already registered as {names[z]!r}")
            table[z] = names[z] = name
        self._names = names
        self._tables[domain] = table
        self.configure_curve_callback(domain, self)

    def allowed(self, domain: str) -> dict[str, bytes]:
        """Name -> public key of everyone admitted on ``domain``."""
        return {name: key for key, name in self._tables.get(domain, {}).items()}

    def callback(self, domain: str, key: bytes) -> bool:
        """ZAP credentials check (pyzmq calls it with the Z85 client key)."""
        return key in self._tables.get(domain, ())

    def curve_user_id(self, client_public_key: bytes) -> str:
        """The participant (or admin) id every message of this connection will carry."""
        return self._names[z85.encode(client_public_key)]
