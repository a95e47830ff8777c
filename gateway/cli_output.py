"""What every ``ipx`` subcommand shares: where the keys are, and how a message is printed.

Public functions: :func:`key_dir`, :func:`named`, :func:`show`.
"""

from __future__ import annotations

import argparse
import json
from enum import IntEnum
from pathlib import Path

import msgspec


def key_dir(args: argparse.Namespace) -> Path:
    """The key directory a command was given, else the per-user demo key directory."""
    from gateway.config import default_key_dir

    return Path(args.key_dir) if args.key_dir else default_key_dir()


def named(value: object) -> object:
    """A message as plain JSON values with names: each struct (the events inside an admin
    ack too, which travel as bare arrays) an object with its type, each enum its name."""
    if isinstance(value, msgspec.Struct):
        fields = msgspec.structs.asdict(value)
        return {"type": type(value).__name__, **{k: named(v) for k, v in fields.items()}}
    if isinstance(value, IntEnum):
        return value.name
    if isinstance(value, list | tuple):
        return [named(v) for v in value]
    return msgspec.to_builtins(value)


def show(msg: msgspec.Struct) -> str:
    """One response as a JSON line, enums by name, so it reads and greps well."""
    return json.dumps(named(msg))
