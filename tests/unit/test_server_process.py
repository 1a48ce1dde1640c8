"""The benchmarks' child-server runner (benchmarks/runners/server_process.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from benchmarks.runners.base import RunnerUnavailable
from benchmarks.runners.server_process import ServerProcess


def test_a_server_that_is_never_ready_is_stopped_and_its_log_reported(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "print('still starting', flush=True); import time; "
               "time.sleep(60)"]
    server = ServerProcess(command, tmp_path / "server.log")
    with pytest.raises(RunnerUnavailable, match="not ready after 1 s: still starting"):
        server.wait_until(lambda: False, 1.0, "the server")
    assert server._process.poll() is not None  # stopped, not left running
