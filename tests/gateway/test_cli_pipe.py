"""`ipx` whose reader has gone (`ipx codes | head`) stops quietly with the shell's SIGPIPE
status instead of a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

IPX_CODES = "from gateway.cli import main; raise SystemExit(main(['codes']))"


def test_cli_when_stdout_reader_is_gone_then_exits_141_without_a_traceback():
    read_end, write_end = os.pipe()
    os.close(read_end)  # no reader at all: the first write fails, whatever the timing
    try:
        run = subprocess.run(
            [sys.executable, "-c", IPX_CODES],
            stdout=write_end, stderr=subprocess.PIPE, timeout=60, check=False,
        )
    finally:
        os.close(write_end)
    assert (run.returncode, run.stderr) == (141, b"")
