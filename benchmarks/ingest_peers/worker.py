"""One engine's ingestion in a fresh process: `python -m benchmarks.ingest_peers.worker
ENGINE DATASET COUNT IDLE_S WORKLOAD DOCS_PER_POST`. The last stdout line is a JSON object
with the figures.

A fresh process per engine keeps one engine's memory out of another's figures, and lets an
in-process engine's peak RSS be this process's own VmHWM. SIGTERM (the parent's time box)
raises SystemExit, so the runner's close() still stops its server and drops its data."""

from __future__ import annotations

import json
import resource
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from benchmarks.ingest.dataset import product_sift_settings, product_typesense_fields
from benchmarks.ingest.server import proc_status_mib
from benchmarks.ingest_peers.corpus import load_docs, load_products, runner_docs_path
from benchmarks.runners import create_runner
from benchmarks.runners.base import Runner

if TYPE_CHECKING:
    from benchmarks.ingest.measure import Measurement

CACHE = Path(__file__).resolve().parents[1] / ".cache"
IN_PROCESS = ("fts5", "tantivy", "bm25s")


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(143)


def _emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def measure_sift(dataset: Path, count: int, idle_s: float = 0.0) -> dict[str, Any]:
    """A real `sift serve`, the runners' documents as one NDJSON POST, as `benchmarks.ingest`
    measures it. (Imports of the Sift and Typesense paths stay in their functions: an
    in-process engine's peak RSS is this worker's own.)"""
    from benchmarks.ingest.measure import measure

    run = measure(runner_docs_path(dataset), count, batch_size=None, parts=1, idle_s=idle_s)
    return {
        **_sift_figures(run),
        "timed": "POST of the NDJSON file -> task seen succeeded (server start not timed)",
        "settings": {
            "index": "server defaults; {id, title, text} as every engine; one POST, NDJSON"
        },
    }


def measure_sift_products(
    dataset: Path, count: int, docs_per_post: int, idle_s: float = 0.0
) -> dict[str, Any]:
    """A real `sift serve`: the index created with the products' settings, then the seven-field
    product file as NDJSON POSTs of `docs_per_post` documents (0: one POST)."""
    from benchmarks.ingest.measure import measure

    settings = product_sift_settings()
    run = measure(dataset, count, batch_size=None, idle_s=idle_s,
                  docs_per_post=docs_per_post or None, settings=settings)
    return {
        **_sift_figures(run),
        "timed": "first POST -> last task seen succeeded (server start and settings not timed)",
        "settings": {"index": settings, "posts": _posts(count, docs_per_post)},
    }


def _sift_figures(run: Measurement) -> dict[str, Any]:
    return {
        "seconds": run.total_s,
        "rss_before_mib": run.rss_start_mib,
        "rss_peak_mib": run.rss_peak_mib,
        "rss_peak_idle_mib": run.rss_peak_idle_mib,
        "rss_after_mib": run.rss_after_mib,
        "memory_of": "sift serve process, /proc/<pid>/status VmHWM",
    }


def _posts(count: int, docs_per_post: int) -> str:
    if not docs_per_post or docs_per_post >= count:
        return "one POST"
    return f"{-(-count // docs_per_post)} POSTs of {docs_per_post:,} documents"


def measure_typesense_products(dataset: Path, count: int, docs_per_post: int) -> dict[str, Any]:
    """A real typesense-server: a collection with the products' schema (facets on brand and
    tags), then the same seven-field documents, `docs_per_post` per import request."""
    from benchmarks.engine_speed.engines import TypesenseHttp

    docs = load_products(dataset)
    fields = product_typesense_fields()
    typesense = TypesenseHttp(CACHE)
    try:
        pid = int(typesense.server.process.pid)
        _emit({"server_pid": pid})
        rss_before = proc_status_mib(pid, "VmRSS")
        seconds = typesense.load("products", docs, fields, batch_docs=docs_per_post or count)
        return {
            "seconds": seconds,
            "rss_before_mib": rss_before,
            "rss_peak_mib": proc_status_mib(pid, "VmHWM"),
            "rss_after_mib": proc_status_mib(pid, "VmRSS"),
            "memory_of": "typesense-server process, /proc/<pid>/status VmHWM",
            "timed": "first import request -> last import answered (imports are synchronous)",
            "settings": {"schema": fields, "posts": _posts(count, docs_per_post),
                         "import": "action=create, batch_size=1000"},
        }
    finally:
        typesense.close()


def _server_pid(runner: Runner) -> int:
    server = runner._server  # type: ignore[attr-defined]  # the runner's TypesenseServer
    return int(server.process.pid)


def measure_runner(engine: str, dataset: Path) -> dict[str, Any]:
    docs = load_docs(dataset)
    runner = create_runner(engine, CACHE)
    try:
        server_pid = _server_pid(runner) if engine == "typesense" else None
        if server_pid is not None:
            _emit({"server_pid": server_pid})
            rss_before: float | None = proc_status_mib(server_pid, "VmRSS")
        elif engine in IN_PROCESS:
            rss_before = _self("VmRSS")
        else:
            rss_before = None
        start = time.perf_counter()
        runner.index(docs)
        seconds = time.perf_counter() - start
        rss_after: float | None = None
        if server_pid is not None:
            rss_peak: float | None = proc_status_mib(server_pid, "VmHWM")
            rss_after = proc_status_mib(server_pid, "VmRSS")
            memory_of = "typesense-server process, /proc/<pid>/status VmHWM"
        elif engine in IN_PROCESS:
            rss_peak = _self("VmHWM")
            rss_after = _self("VmRSS")
            memory_of = (
                "this Python process (engine + the loaded Doc list + interpreter), "
                "/proc/self/status VmHWM"
            )
        elif engine == "lucene":
            # The only child this fresh process has waited for is IndexCollection's JVM;
            # ru_maxrss of the children is that process's peak RSS, the VmHWM it had.
            rss_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            memory_of = "IndexCollection JVM (its peak RSS = VmHWM, via getrusage children)"
        else:
            rss_peak = None
            memory_of = "not attributable: PostgreSQL's server memory is shared (backends, buffers)"
        return {
            "seconds": seconds,
            "rss_before_mib": rss_before,
            "rss_peak_mib": rss_peak,
            "rss_after_mib": rss_after,
            "memory_of": memory_of,
            "timed": "runner.index(docs): until searchable"
            + (" (JVM start included)" if engine == "lucene" else "")
            + (" (client time: COPY, GIN index, ANALYZE)" if engine == "postgres" else ""),
            "settings": runner.settings(),
        }
    finally:
        runner.close()


def _self(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def main(argv: list[str] | None = None) -> None:
    engine, dataset, count_arg, idle_arg, workload, per_post_arg = (
        argv if argv is not None else sys.argv[1:]
    )
    count, idle_s, docs_per_post = int(count_arg), float(idle_arg), int(per_post_arg)
    signal.signal(signal.SIGTERM, _on_sigterm)
    path = Path(dataset)
    if workload == "products" and engine == "sift":
        record = measure_sift_products(path, count, docs_per_post, idle_s)
    elif workload == "products" and engine == "typesense":
        record = measure_typesense_products(path, count, docs_per_post)
    elif engine == "sift":
        record = measure_sift(path, count, idle_s)
    else:
        record = measure_runner(engine, path)
    _emit({"result": {**record, "workload": workload}})


if __name__ == "__main__":
    main()
