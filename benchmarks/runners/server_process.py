"""Start a search server as a child process on a free loopback port, and stop it again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from benchmarks.runners.base import RunnerUnavailable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A child server whose output goes to a log file (a pipe nobody reads would fill up
    and stall it), torn down with SIGTERM and then SIGKILL."""

    def __init__(self, command: Sequence[str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        # A new session, so stopping it also stops anything it spawned.
        self._process = subprocess.Popen(
            list(command), stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_until(self, ready: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RunnerUnavailable(
                    f"{what} exited with {self._process.returncode} during start-up: "
                    f"{self.log_tail()}"
                )
            try:
                if ready():
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RunnerUnavailable(f"{what} was not ready after {timeout_s:.0f} s: {self.log_tail()}")

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.poll() is None

    def send(self, sig: signal.Signals) -> None:
        """A signal to the server alone (SIGSTOP, SIGCONT, SIGKILL...), while it runs."""
        if self.alive():
            os.kill(self._process.pid, sig)

    def log_tail(self, chars: int = 800) -> str:
        if not self._log.closed:  # after stop(), as when a start timed out: already flushed
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        self._log.close()


def temp_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
