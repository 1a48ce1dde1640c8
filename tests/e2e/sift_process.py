"""A real `sift serve` process for end-to-end tests: start, wait until healthy, stop, kill.

Tests get their processes from a :class:`ServerPool` fixture whose finalizer kills
whatever is still running, so a failing test never leaves a server behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

MASTER_KEY = "e2e-master-key-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SiftProcess:
    """One data directory served by successive `python -m sift serve` processes."""

    def __init__(self, data_dir: Path, *, master_key: str | None = MASTER_KEY) -> None:
        self.data_dir = data_dir
        self.master_key = master_key
        # One port for the directory's whole life: clients keep working across restarts.
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / f"{data_dir.name}-server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start_seconds: list[float] = []  # how long each start took to become healthy

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.master_key}"} if self.master_key else {}

    def client(self, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=timeout)

    def start(self, *extra: str, timeout: float = 60.0) -> None:
        """Start the server and return once /health answers."""
        began = time.monotonic()
        self.launch(*extra)
        self._wait_healthy(timeout)
        self.start_seconds.append(time.monotonic() - began)

    def launch(self, *extra: str) -> None:
        """Start the server and return at once."""
        assert not self.alive(), "already running"
        args = [sys.executable, "-m", "sift", "serve", "--port", str(self.port)]
        args += ["--data-dir", str(self.data_dir), "--log-level", "warning"]
        # A config file that does not exist: no stray sift.toml from the cwd applies.
        args += ["--config-file", str(self.data_dir.parent / "absent-sift.toml")]
        if self.master_key:
            args += ["--master-key", self.master_key]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIFT_")}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*args, *extra], stdout=log, stderr=subprocess.STDOUT, env=env
            )

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"sift serve exited early:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"sift serve not healthy after {timeout}s:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut of the process."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def kill_nowait(self) -> None:
        """SIGKILL from another thread; the owner of the process reaps it with kill()."""
        if self.proc is not None and self.proc.returncode is None:
            os.kill(self.proc.pid, signal.SIGKILL)

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""


class ServerPool:
    """Every server a test starts; :meth:`kill_all` is the fixture finalizer."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.servers: list[SiftProcess] = []

    def new(self, name: str = "data", master_key: str | None = MASTER_KEY) -> SiftProcess:
        server = SiftProcess(self.root / name, master_key=master_key)
        self.servers.append(server)
        return server

    def kill_all(self) -> None:
        for server in self.servers:
            server.kill()
