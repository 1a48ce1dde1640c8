"""The Sift nodes of a fault run: real `sift serve` processes sharing one PostgreSQL.

Each node reaches PostgreSQL through its own :class:`LinkProxy`, so one node's link can be
dropped or stalled while the others keep theirs. Which node leads is read from the
database itself (`worker_lease.holder` is `host:pid`), never guessed.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import httpx
import sqlalchemy as sa

from benchmarks.faults.proxy import LinkProxy
from benchmarks.runners.server_process import ServerProcess, free_port

MASTER_KEY = "fault-suite-master-key-0123456789"
START_TIMEOUT_S = 120


class Node:
    def __init__(
        self,
        name: str,
        root: Path,
        database_url: str,
        redis_url: str | None,
        lease_timeout: float,
        proxy: LinkProxy,
    ) -> None:
        self.name = name
        self.root = root
        self.port = free_port()  # kept across restarts: clients keep their address
        self.url = f"http://127.0.0.1:{self.port}"
        self.proxy = proxy
        self.starts = 0
        self._args = [
            sys.executable,
            "-m",
            "sift",
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(root / name),
            "--database-url",
            database_url,
            "--master-key",
            MASTER_KEY,
            "--lease-timeout",
            str(lease_timeout),
            "--log-level",
            "warning",
            "--no-analytics",
            "--config-file",
            str(root / "absent.toml"),
        ]
        if redis_url:
            self._args += ["--redis-url", redis_url]
        self._process: ServerProcess | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {MASTER_KEY}"}

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def client(self, timeout: float) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=timeout)

    def start(self) -> None:
        self.starts += 1
        log = self.root / f"{self.name}-{self.starts}.log"
        self._process = ServerProcess(self._args, log)
        with httpx.Client(base_url=self.url, timeout=2) as http:
            self._process.wait_until(
                lambda: http.get("/health").status_code == 200, START_TIMEOUT_S, f"node {self.name}"
            )

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self._process is not None:
            self._process.send(signal.SIGKILL)
            self._process.stop()  # reaps it
            self._process = None

    def pause(self) -> None:
        if self._process is not None:
            self._process.send(signal.SIGSTOP)

    def cont(self) -> None:
        if self._process is not None:
            self._process.send(signal.SIGCONT)

    def stop(self) -> None:
        if self._process is not None:
            self.cont()
            self._process.stop()
            self._process = None

    def logs(self) -> list[Path]:
        return sorted(self.root.glob(f"{self.name}-*.log"))


def leader(nodes: list[Node], admin: sa.Engine) -> Node | None:
    """The node the lease row names, if it is one of ours and running."""
    with admin.connect() as conn:
        holder = conn.execute(sa.text("SELECT holder FROM worker_lease WHERE id = 1")).scalar()
    pid = str(holder or "").rpartition(":")[2]
    return next((n for n in nodes if pid and str(n.pid) == pid), None)
