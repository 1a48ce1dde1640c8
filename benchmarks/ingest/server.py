"""A `sift serve` child process whose pid we need, for its memory figures."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx


class SiftServer:
    def __init__(self, args: Sequence[str], log_path: Path,
                 env: Mapping[str, str] | None = None) -> None:  # fmt: skip
        self.log_path = log_path
        with log_path.open("wb") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sift", "serve", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )

    healthy_at: float | None = None  # when /health first answered (epoch s), if waited for

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_healthy(self, url: str, timeout_s: float, interval: float = 0.1) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sift serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(interval)
        raise TimeoutError(f"sift serve not healthy after {timeout_s} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def proc_status_mib(pid: int, field: str) -> float:
    """A memory figure (VmRSS, VmHWM: peak RSS) of a live process from /proc, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)
