"""Start the servers under test on loopback and load scifact into them.

Sift is started here rather than through the relevance runner because the load test
needs `--workers` and a data directory that survives a restart: the corpus is indexed
once by a one-worker server, then the same directory is served again with more workers
(each worker rebuilds its index from the database at start). Typesense reuses the
relevance runner, which already fetches the binary and imports documents."""

from __future__ import annotations

import json
import secrets
import shutil
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import httpx

from benchmarks.load.targets import SIFT_INDEX, HttpTarget
from benchmarks.runners.base import Doc, RunnerUnavailable
from benchmarks.runners.server_process import ServerProcess, free_port, temp_dir

START_TIMEOUT_S = 60
TASK_TIMEOUT_S = 600
BATCH_DOCS = 5000


class SiftServer:
    """A `sift serve` child on a private data directory; `restart(workers=...)` serves
    the same data again with another worker count."""

    def __init__(self, *, log_level: str = "info", serve_args: Sequence[str] = ()) -> None:
        self._dir = temp_dir("bench-load-sift-")
        self._key = secrets.token_urlsafe(24)
        self._log_level = log_level
        self._serve_args = list(serve_args)  # more `sift serve` flags, e.g. --server granian
        self._server: ServerProcess | None = None
        self.workers = 0
        self.target: HttpTarget | None = None

    def start(self, workers: int) -> HttpTarget:
        self.stop()
        port = free_port()
        command = [
            sys.executable, "-m", "sift", "serve",
            "--port", str(port),
            "--data-dir", str(self._dir / "data"),
            "--master-key", self._key,
            "--workers", str(workers),
            "--log-level", self._log_level,
            *self._serve_args,
        ]  # fmt: skip
        self._server = ServerProcess(command, self._dir / f"server-w{workers}.log")
        self.workers = workers
        base_url = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {self._key}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=10) as http:
            self._server.wait_until(
                lambda: http.get("/health").status_code == 200, START_TIMEOUT_S, "sift serve"
            )
        self.target = HttpTarget(
            name=f"sift-w{workers}",
            kind="sift",
            base_url=base_url,
            headers=headers,
            settings={
                "version": f"Sift {_sift_version()}",
                "workers": workers,
                "log_level": self._log_level,
                "serve_args": " ".join(self._serve_args),
                "storage": "SQLite (default data dir)",
            },
        )
        return self.target

    def index(self, docs: Sequence[Doc]) -> None:
        assert self.target is not None, "start() first"
        with httpx.Client(
            base_url=self.target.base_url, headers=self.target.headers, timeout=120
        ) as http:
            _wait_task(http, http.post("/indexes", json={"uid": SIFT_INDEX, "primaryKey": "id"}))
            for start in range(0, len(docs), BATCH_DOCS):
                body = "\n".join(
                    json.dumps({"id": d.id, "title": d.title, "text": d.text})
                    for d in docs[start : start + BATCH_DOCS]
                )
                _wait_task(
                    http,
                    http.post(
                        f"/indexes/{SIFT_INDEX}/documents",
                        content=body.encode(),
                        headers={"Content-Type": "application/x-ndjson"},
                    ),
                )

    def wait_documents(self, count: int) -> None:
        """After a restart, poll until the index holds every document. A uvicorn worker
        accepts connections only once its start-up (which rebuilds the search index from
        the database) has finished, so any worker that answers can search them all."""
        assert self.target is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        seen = 0
        with httpx.Client(
            base_url=self.target.base_url, headers=self.target.headers, timeout=10
        ) as http:
            while time.monotonic() < deadline:
                answer = http.get(f"/indexes/{SIFT_INDEX}/stats")
                if answer.status_code == 200:
                    seen = answer.json().get("numberOfDocuments", 0)
                    if seen >= count:
                        return
                time.sleep(0.2)
        raise RunnerUnavailable(f"Sift restarted with {self.workers} workers sees {seen} docs")

    @property
    def pid(self) -> int:
        """The `sift serve` process (its workers are its children)."""
        assert self._server is not None, "start() first"
        return self._server.pid

    def log_tail(self) -> str:
        return self._server.log_tail() if self._server else ""

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


def start_typesense(cache_dir: Path, docs: Sequence[Doc]) -> tuple[HttpTarget, object]:
    """Typesense through the relevance runner (binary fetch, start-up, import). Returns the
    target and the runner, whose close() stops the server."""
    from benchmarks.runners.typesense_server import TypesenseRunner

    runner = TypesenseRunner(cache_dir, tuned=False)
    try:
        runner.index(docs)
        # The runner keeps its client private; its base URL and key are all we need.
        http: httpx.Client = runner._http
        target = HttpTarget(
            name="typesense",
            kind="typesense",
            base_url=str(http.base_url).rstrip("/"),
            headers={"X-TYPESENSE-API-KEY": http.headers["X-TYPESENSE-API-KEY"]},
            settings={**runner.settings(), "thread_pool_size": 2},
        )
    except BaseException:
        runner.close()
        raise
    return target, runner


def _wait_task(http: httpx.Client, response: httpx.Response) -> None:
    if response.status_code != 202:
        raise RunnerUnavailable(f"{response.request.url} answered {response.status_code}")
    uid = response.json()["taskUid"]
    deadline = time.monotonic() + TASK_TIMEOUT_S
    while time.monotonic() < deadline:
        task = http.get(f"/tasks/{uid}").raise_for_status().json()
        if task["status"] == "succeeded":
            return
        if task["status"] in ("failed", "canceled"):
            raise RunnerUnavailable(f"Sift task {uid} {task['status']}: {task.get('error')}")
        time.sleep(0.05)
    raise RunnerUnavailable(f"Sift task {uid} did not finish in {TASK_TIMEOUT_S} s")


def _sift_version() -> str:
    try:
        return metadata.version("sift-search")
    except metadata.PackageNotFoundError:
        return "unknown"
