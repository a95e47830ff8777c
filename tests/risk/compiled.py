"""Tests' access to the risk modules that setup.py compiles with mypyc."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def source_module(module: ModuleType) -> ModuleType:
    """A fresh interpreted copy of ``module`` run from its ``.py`` file: compiled, a module
    keeps no docstrings for doctest to find."""
    path = Path(module.__file__ or "").with_name(module.__name__.rsplit(".", 1)[-1] + ".py")
    spec = importlib.util.spec_from_file_location(f"{module.__name__}_source", path)
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    return copy
