"""One ingestion run: a fresh server, the whole file in one POST (or a few), wait for the tasks."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks.ingest.server import SiftServer, proc_status_mib
from benchmarks.runners.server_process import free_port

START_TIMEOUT_S = 60
INDEX = "products"
TASK_TIMEOUT_S = 1800


@dataclass
class Measurement:
    documents: int
    payload_bytes: int  # of the largest POST body
    accepted_s: float  # first POST start -> last 202 (upload, parse, store the payload)
    total_s: float  # first POST start -> last task seen succeeded
    task_s: float  # the tasks' own first startedAt -> last finishedAt
    rss_start_mib: float  # server RSS once healthy, before the POST
    rss_peak_mib: float  # server peak RSS (VmHWM) over the whole run
    rss_after_mib: float  # server RSS once the task finished: mostly the search index
    # VmHWM again after `idle_s` idle seconds (the worker's idle merge), when asked
    rss_peak_idle_mib: float | None = None

    @property
    def docs_per_s(self) -> float:
        return self.documents / self.total_s

    @property
    def task_docs_per_s(self) -> float:
        return self.documents / self.task_s

    def as_dict(self) -> dict[str, float]:
        return {
            **asdict(self),
            "docs_per_s": self.docs_per_s,
            "task_docs_per_s": self.task_docs_per_s,
        }


def _timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.rstrip("Z"))


def chunk_lines(body: bytes, lines_per_part: int) -> list[bytes]:
    """`body` (NDJSON) cut into bodies of `lines_per_part` whole lines (the last one fewer)."""
    lines = body.rstrip(b"\n").split(b"\n")
    return [
        b"\n".join(lines[i : i + lines_per_part]) for i in range(0, len(lines), lines_per_part)
    ]


def split_lines(body: bytes, parts: int) -> list[bytes]:
    """`body` (NDJSON) cut into `parts` bodies of whole lines, nearly equal in size."""
    lines = body.rstrip(b"\n").count(b"\n") + 1
    return chunk_lines(body, -(-lines // parts))


def _wait(client: httpx.Client, uid: int) -> dict[str, Any]:
    while True:
        task: dict[str, Any] = client.get(f"/tasks/{uid}").json()
        if task["status"] in ("succeeded", "failed", "canceled"):
            if task["status"] != "succeeded":
                raise RuntimeError(f"ingestion task {task['status']}: {task['error']}")
            return task
        # 50 ms, the Meilisearch SDKs' default wait interval: polling faster measures
        # the poller (each poll takes the server's GIL) more than the ingestion.
        time.sleep(0.05)


def _configure(client: httpx.Client, settings: dict[str, Any]) -> None:
    """Create the index with `settings` before any document, as a site does, so the import
    is timed building its filterable, sortable and facet fields too."""
    response = client.post("/indexes", json={"uid": INDEX, "primaryKey": "id"})
    response.raise_for_status()
    _wait(client, response.json()["taskUid"])
    response = client.patch(f"/indexes/{INDEX}/settings", json=settings)
    response.raise_for_status()
    _wait(client, response.json()["taskUid"])


def _server_args(port: int, workdir: Path, key: str, batch_size: int | None) -> list[str]:
    # Release settings: one process, quiet logs, no analytics, a body limit above the file.
    args = [
        "--port", str(port),
        "--data-dir", str(workdir / "data"),
        "--config-file", str(workdir / "absent.toml"),
        "--master-key", key,
        "--log-level", "warning",
        "--no-analytics",
        "--max-payload-bytes", str(4 << 30),
    ]  # fmt: skip
    return args + (["--batch-size", str(batch_size)] if batch_size else [])


def measure(dataset: Path, documents: int, batch_size: int | None, parts: int = 1,
            idle_s: float = 0.0, *, docs_per_post: int | None = None,
            settings: dict[str, Any] | None = None) -> Measurement:
    """Ingest `dataset` (in `parts` POSTs, or POSTs of `docs_per_post` documents) into a
    fresh server on a temporary data directory, the index created with `settings` first
    when given (not timed); with `idle_s`, leave the server idle that long afterwards (the
    task worker merges the segments a second after its last batch) and read its VmHWM
    again."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    key = secrets.token_urlsafe(24)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = SiftServer(_server_args(port, workdir, key, batch_size), workdir / "server.log")
    client = httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=TASK_TIMEOUT_S
    )
    try:
        server.wait_healthy(url, START_TIMEOUT_S)
        if settings is not None:
            _configure(client, settings)
        rss_start = proc_status_mib(server.pid, "VmRSS")
        body = dataset.read_bytes()
        if docs_per_post:
            bodies = chunk_lines(body, docs_per_post)
        else:
            bodies = split_lines(body, parts) if parts > 1 else [body]
        began = time.perf_counter()
        uids = []
        for part in bodies:
            response = client.post(
                f"/indexes/{INDEX}/documents",
                content=part,
                headers={"Content-Type": "application/x-ndjson"},
            )
            response.raise_for_status()
            uids.append(response.json()["taskUid"])
        accepted = time.perf_counter() - began
        tasks = [_wait(client, uid) for uid in uids]
        total = time.perf_counter() - began
        indexed = sum(t["details"]["indexedDocuments"] for t in tasks)
        if indexed != documents:
            raise RuntimeError(f"indexed {indexed} documents, expected {documents}")
        first = min(_timestamp(t["startedAt"]) for t in tasks)
        task_s = (max(_timestamp(t["finishedAt"]) for t in tasks) - first).total_seconds()
        rss_peak = proc_status_mib(server.pid, "VmHWM")
        rss_after = proc_status_mib(server.pid, "VmRSS")
        if idle_s > 0:
            time.sleep(idle_s)
        return Measurement(
            documents=documents,
            payload_bytes=max(len(b) for b in bodies),
            accepted_s=accepted,
            total_s=total,
            task_s=task_s,
            rss_start_mib=rss_start,
            rss_peak_mib=rss_peak,
            rss_after_mib=rss_after,
            rss_peak_idle_mib=proc_status_mib(server.pid, "VmHWM") if idle_s > 0 else None,
        )
    finally:
        client.close()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
