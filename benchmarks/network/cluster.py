"""The processes of a network run: `sift serve` nodes on one PostgreSQL database."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.runners.server_process import ServerProcess, free_port

MASTER_KEY = "network-bench-master-key-0123456789"


class Node:
    def __init__(
        self,
        name: str,
        root: Path,
        database_url: str,
        self_name: str | None,
        port: int | None = None,
    ) -> None:
        self.name = name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "sift", "serve", "--port", str(self.port),
                "--data-dir", str(root / name), "--database-url", database_url,
                "--master-key", MASTER_KEY, "--log-level", "warning", "--no-analytics",
                "--config-file", str(root / "absent.toml")]  # fmt: skip
        if self_name is not None:
            args += ["--network-self", self_name]
        self.process = ServerProcess(args, root / f"{name}.log")
        self.http = httpx.Client(base_url=self.url, timeout=120,
                                 headers={"Authorization": f"Bearer {MASTER_KEY}"})
        self.process.wait_until(
            lambda: self.http.get("/health").status_code == 200, 600, f"sift node {name}"
        )

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def wait_task(self, uid: int, timeout: float = 1800) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            task = self.http.get(f"/tasks/{uid}").json()
            if task["status"] in ("succeeded", "failed", "canceled"):
                if task["status"] != "succeeded":
                    raise RuntimeError(f"task {uid} {task['status']}: {task.get('error')}")
                return task
            time.sleep(0.2)
        raise TimeoutError(f"task {uid} unfinished after {timeout} s")

    def run(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        answer = self.http.request(method, path, **kwargs)
        if answer.status_code != 202:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text}")
        return self.wait_task(answer.json()["taskUid"])

    def search(self, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
        started = time.perf_counter()
        answer = self.http.post("/indexes/products/search", json=body)
        elapsed = time.perf_counter() - started
        if answer.status_code != 200:
            raise RuntimeError(f"search {body}: {answer.status_code} {answer.text}")
        return answer.json(), elapsed

    def local_count(self) -> int:
        """Documents in this node's memory (a search's total stops at maxTotalHits; the
        stats' document count is the database's)."""
        stats = self.http.get("/indexes/products/stats").json()
        return int(stats.get("fieldDistribution", {}).get("id", 0))

    def stop(self) -> None:
        self.http.close()
        self.process.stop()
