"""Suite-wide settings: hypothesis runs derandomized, so every run tries the same examples
and a CI failure always reproduces locally; and the suite refuses to run risk modules whose
mypyc build (setup.py) is older than their source, which Python would import silently."""

from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, deadline=None)
settings.load_profile("repeatable")

ROOT = Path(__file__).resolve().parent.parent


def pytest_sessionstart(session: pytest.Session) -> None:
    for built in ROOT.glob("risk/*.so"):
        source = built.with_name(built.name.split(".", 1)[0] + ".py")
        if not source.exists():
            pytest.exit(f"{built.name} has no source any more: delete it")
        if source.stat().st_mtime > built.stat().st_mtime:
            pytest.exit(f"{built.name} is older than its source: `make test` rebuilds it")
