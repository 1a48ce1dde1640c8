"""One corpus size: ingest through the API, restart on the same database, query.

A fresh `sift serve` (SQLite in a temporary data directory) gets the settings
(filterable attributes) and then the generated products in POSTs of at most
``PART_DOCS`` documents; once every task succeeded it is stopped (SIGTERM: it writes its
index image, sift.engine.image) and a second process is started on the same directory.
A server loads its indexes before it answers /health, so spawn -> healthy is a restart
time: the second process loads the image (checked against the database), and answers
the typeahead mix, one request at a time, over one kept-alive connection; a third,
started with --no-index-images, rebuilds the index from the database."""

from __future__ import annotations

import math
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks.ingest.measure import split_lines
from benchmarks.ingest.server import SiftServer, proc_status_mib
from benchmarks.runners.server_process import free_port
from benchmarks.scale.queries import FILTERABLE, typeahead

PART_DOCS = 100_000  # documents per POST: bounds the server's parsing peak
START_TIMEOUT_S = 900
STOP_TIMEOUT_S = 600  # a stop writes the index image: longer than SiftServer.stop's wait
TASK_TIMEOUT_S = 3600
WARM_QUERIES = 30  # first searches (caches, compiled loops) left out of the figures
_MS = re.compile(r"([\d.]+)(ms|s)$")


@dataclass
class SizeResult:
    documents: int
    via: str  # "api": POSTs to a server; "storage": rows written through sift.storage
    sqlite_bytes: int
    ingest_s: float  # first POST -> last task succeeded; or the rows written
    ingest_peak_rss_mib: float | None  # VmHWM of the ingesting server (None: storage)
    empty_start_s: float  # spawn -> healthy on an empty data directory
    stop_s: float  # SIGTERM -> exit of the process before the restart (it writes the image)
    image_bytes: int
    restart_s: float  # spawn -> healthy, the index loaded from its image
    restart_cpu_s: float  # CPU time of that process when healthy
    restart_peak_rss_mib: float  # VmHWM of that process once healthy
    rebuild_s: float | None  # spawn -> healthy, rebuilt from the database (None: timed out)
    rebuild_cpu_s: float | None
    rebuild_peak_rss_mib: float | None
    rss_empty_mib: float  # the first process before any document
    rss_loaded_mib: float  # the restarted process once healthy, idle
    rss_after_queries_mib: float
    queries: int
    engine_ms: list[float]  # performanceDetails.search of each measured query
    end_to_end_ms: list[float]

    @property
    def bytes_per_doc(self) -> float:
        """Resident memory the documents add to a process, per document."""
        return (self.rss_loaded_mib - self.rss_empty_mib) * 2**20 / self.documents

    def summary(self) -> dict[str, float | None]:
        return {
            "documents": self.documents,
            "ingest_s": self.ingest_s,
            "ingest_docs_per_s": self.documents / self.ingest_s,
            "ingest_peak_rss_mib": self.ingest_peak_rss_mib,
            "empty_start_s": self.empty_start_s,
            "stop_s": self.stop_s,
            "image_bytes_per_doc": self.image_bytes / self.documents,
            "restart_s": self.restart_s,
            "restart_cpu_s": self.restart_cpu_s,
            "restart_peak_rss_mib": self.restart_peak_rss_mib,
            "rebuild_s": self.rebuild_s,
            "rebuild_cpu_s": self.rebuild_cpu_s,
            "rebuild_peak_rss_mib": self.rebuild_peak_rss_mib,
            "rss_empty_mib": self.rss_empty_mib,
            "rss_loaded_mib": self.rss_loaded_mib,
            "rss_after_queries_mib": self.rss_after_queries_mib,
            "bytes_per_doc_rss": self.bytes_per_doc,
            "bytes_per_doc_sqlite": self.sqlite_bytes / self.documents,
            "engine_p50_ms": percentile(self.engine_ms, 50),
            "engine_p99_ms": percentile(self.engine_ms, 99),
            "e2e_p50_ms": percentile(self.end_to_end_ms, 50),
            "e2e_p99_ms": percentile(self.end_to_end_ms, 99),
        }

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "summary": self.summary()}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (the value below which q % of the values lie)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _milliseconds(text: str) -> float:
    match = _MS.match(text)
    if match is None:
        raise ValueError(f"unexpected duration {text!r}")
    return float(match.group(1)) * (1000 if match.group(2) == "s" else 1)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait(client: httpx.Client, uid: int) -> None:
    while True:
        task: dict[str, Any] = client.get(f"/tasks/{uid}").json()
        if task["status"] in ("succeeded", "failed", "canceled"):
            if task["status"] != "succeeded":
                raise RuntimeError(f"task {uid} {task['status']}: {task.get('error')}")
            return
        time.sleep(0.1)


class _Node:
    """`sift serve` on ``workdir/data`` with a master key, release settings."""

    def __init__(self, data: Path, key: str, name: str, *extra: str,
                 timeout_s: float = START_TIMEOUT_S) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        args = ["--port", str(port), "--data-dir", str(data),
                "--config-file", str(data.parent / "absent.toml"), "--master-key", key,
                "--log-level", "warning", "--no-analytics",
                "--max-payload-bytes", str(1 << 30), *extra]  # fmt: skip
        began = time.perf_counter()
        self.server = SiftServer(args, data.parent / f"{name}.log")
        try:
            self.server.wait_healthy(self.url, timeout_s)
        except BaseException:
            self.server.stop()  # not left behind, rebuilding into a removed directory
            raise
        self.start_s = time.perf_counter() - began
        # CPU seconds the start took: on a shared machine its wall time is mostly waiting.
        self.start_cpu_s = _cpu_seconds(self.server.pid)
        self.client = httpx.Client(base_url=self.url, timeout=TASK_TIMEOUT_S,
                                   headers={"Authorization": f"Bearer {key}"})  # fmt: skip

    def mib(self, field: str) -> float:
        return proc_status_mib(self.server.pid, field)

    def stop(self) -> float:
        """SIGTERM, then wait for the exit; the seconds it took."""
        self.client.close()
        began = time.perf_counter()
        process = self.server.process
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise RuntimeError(f"sift serve did not stop within {STOP_TIMEOUT_S} s") from None
        return time.perf_counter() - began


def _ingest(node: _Node, dataset: Path, documents: int) -> float:
    settings = node.client.patch("/indexes/products/settings",
                                 json={"filterableAttributes": FILTERABLE})  # fmt: skip
    settings.raise_for_status()
    _wait(node.client, settings.json()["taskUid"])
    body = dataset.read_bytes()
    began = time.perf_counter()
    uids = []
    for part in split_lines(body, max(1, math.ceil(documents / PART_DOCS))):
        response = node.client.post("/indexes/products/documents", content=part,
                                    headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
        response.raise_for_status()
        uids.append(response.json()["taskUid"])
    del body
    for uid in uids:
        _wait(node.client, uid)
    return time.perf_counter() - began


def _query(node: _Node, bodies: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    engine, end_to_end = [], []
    for number, body in enumerate(bodies):
        began = time.perf_counter()
        response = node.client.post("/indexes/products/search", json=body)
        elapsed = (time.perf_counter() - began) * 1000
        response.raise_for_status()
        if number < WARM_QUERIES:
            continue
        engine.append(_milliseconds(response.json()["performanceDetails"]["search"]))
        end_to_end.append(elapsed)
    return engine, end_to_end


def _ingest_storage(data: Path, dataset: Path) -> float:
    """The products written straight into a new database through Sift's storage layer
    (the rows the task worker would write, no search index): the next start rebuilds."""
    from sift.engine.settings import apply_patch, default_settings
    from sift.storage import Database
    from sift.storage import documents as doc_rows
    from sift.storage import indexes as index_rows

    data.mkdir(parents=True)
    db = Database(f"sqlite:///{data / 'sift.db'}")
    began = time.perf_counter()
    try:
        db.migrate()
        settings = apply_patch(default_settings(), {"filterableAttributes": FILTERABLE})
        with db.write() as conn, dataset.open("rb") as fh:
            record = index_rows.create(conn, "products", "id", settings)
            rows: list[tuple[str, bytes]] = []
            for line in fh:
                body = line.rstrip(b"\n")
                rows.append((str(orjson.loads(body)["id"]), body))
                if len(rows) == PART_DOCS:
                    doc_rows.upsert(db, conn, record.id, rows)
                    rows = []
            doc_rows.upsert(db, conn, record.id, rows)
    finally:
        db.dispose()
    return time.perf_counter() - began


def measure(dataset: Path, documents: int, queries: int, seed: int, via: str = "api",
            rebuild_limit_s: float = START_TIMEOUT_S) -> SizeResult:
    """``via="api"``: ingest through a server, which writes the image at its stop, then
    restart from the image and, last, rebuild; ``via="storage"``: write the rows, start
    (a rebuild), stop (the image), restart from the image."""
    workdir = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    data = workdir / "data"
    key = secrets.token_urlsafe(24)
    ingest_peak = rebuild_s = rebuild_cpu_s = rebuild_peak = None
    try:
        if via == "api":
            first = _Node(data, key, "ingest")
            try:
                rss_empty = first.mib("VmRSS")
                ingest_s = _ingest(first, dataset, documents)
                count = first.client.get("/indexes/products/stats").json()["numberOfDocuments"]
                if count != documents:
                    raise RuntimeError(f"{count} documents indexed, expected {documents}")
                ingest_peak = first.mib("VmHWM")
            finally:
                stop_s = first.stop()
            empty_start_s = first.start_s
        else:
            empty = _Node(workdir / "empty", key, "empty")
            rss_empty, empty_start_s = empty.mib("VmRSS"), empty.start_s
            empty.stop()
            ingest_s = _ingest_storage(data, dataset)
            first = _Node(data, key, "rebuild", timeout_s=rebuild_limit_s)
            rebuild_s, rebuild_peak = first.start_s, first.mib("VmHWM")
            rebuild_cpu_s = first.start_cpu_s
            stop_s = first.stop()
        sqlite_bytes = sum(p.stat().st_size for p in data.glob("sift.db*"))
        image_bytes = sum(p.stat().st_size for p in (data / "images").glob("*.image"))
        second = _Node(data, key, "restart")
        try:
            restart_peak, rss_loaded = second.mib("VmHWM"), second.mib("VmRSS")
            bodies = typeahead(queries + WARM_QUERIES, seed)
            engine, end_to_end = _query(second, bodies)
            rss_after_queries = second.mib("VmRSS")
        finally:
            second.stop()
        if via == "api":
            try:
                third = _Node(data, key, "rebuild", "--no-index-images",
                              timeout_s=rebuild_limit_s)  # fmt: skip
            except TimeoutError:
                pass  # reported as timed out: on a loaded machine 1M documents can take long
            else:
                rebuild_s, rebuild_peak = third.start_s, third.mib("VmHWM")
                rebuild_cpu_s = third.start_cpu_s
                third.stop()
        return SizeResult(
            documents=documents,
            via=via,
            sqlite_bytes=sqlite_bytes,
            ingest_s=ingest_s,
            ingest_peak_rss_mib=ingest_peak,
            empty_start_s=empty_start_s,
            stop_s=stop_s,
            image_bytes=image_bytes,
            restart_s=second.start_s,
            restart_cpu_s=second.start_cpu_s,
            restart_peak_rss_mib=restart_peak,
            rebuild_s=rebuild_s,
            rebuild_cpu_s=rebuild_cpu_s,
            rebuild_peak_rss_mib=rebuild_peak,
            rss_empty_mib=rss_empty,
            rss_loaded_mib=rss_loaded,
            rss_after_queries_mib=rss_after_queries,
            queries=len(engine),
            engine_ms=engine,
            end_to_end_ms=end_to_end,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def median_of(runs: list[SizeResult], key: str) -> float | None:
    """The median over runs; a rebuild that timed out (None) counts as the slowest, and
    the median is None when it is one of those."""
    values = [r.summary()[key] for r in runs]
    middle = statistics.median(math.inf if v is None else v for v in values)
    return None if math.isinf(middle) else middle
