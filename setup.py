"""Build step beside pyproject.toml: the risk engine's per-order modules compiled by mypyc.

Risk follows every command the core applies; interpreted, it cost 14,200 instructions per
command against the engine's 21,200. Compiled, its own classes become C structs with typed
integer fields, and it costs about 6,000 (benchmarks/README.md, Risk). The sources stay
plain, type-checked Python: ``pip install -e .`` builds the extensions beside them, and the
Makefile rebuilds them whenever one of these files changes.
"""

from mypyc.build import mypycify
from setuptools import setup

COMPILED = [
    "risk/alerts.py",
    "risk/credit.py",
    "risk/engine.py",
    "risk/holdings.py",
    "risk/limits.py",
    "risk/reservations.py",
]

setup(ext_modules=mypycify(COMPILED, opt_level="3", group_name="ipx_risk"))
