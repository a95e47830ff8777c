"""Count a process's CPU instructions with callgrind, the same way for every benchmark.

Instruction counts repeat where the VM's wall clock moves by 10% or more. Three things made
identical runs drift by several hundred instructions per command, and are off here: address
randomisation (``setarch``; CPython's attribute cache is indexed by addresses), string hash
randomisation (``PYTHONHASHSEED=0``) and numpy's idle OpenBLAS threads spinning inside the
count (``OPENBLAS_NUM_THREADS=1``). Needs valgrind on the PATH.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

TOTALS = re.compile(r"^(?:summary|totals):\s+(\d+)", re.MULTILINE)


def count_instructions(script: str, *args: str) -> int:
    """Instructions of the whole process ``python script args...``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            [
                "setarch",
                platform.machine(),
                "--addr-no-randomize",
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                script,
                *args,
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"},
        )
        match = TOTALS.search(out.read_text())
        if match is None:
            raise SystemExit(f"no instruction total from callgrind for {script} {args}")
        return int(match.group(1))
