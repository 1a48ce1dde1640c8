"""`python -m benchmarks import-peak`: where an import's memory goes, stage by stage.

The 200k product documents `benchmarks.ingest_peers` sends (``{id, title, text}``, seed
42) are indexed in process as the task worker does (batches of 5,000, each held,
prepared and released; server default settings), under tracemalloc. For each stage of a
batch it reports the most the stage allocated above what was live when it began (its
transient) and what it left (net), over all batches; then, once every batch is in and
the segments are merged (the worker's idle step), what the index keeps, by the source
line that allocated it, and the process's RSS (tracemalloc's own bookkeeping included, so
RSS here is above a server's). Run it with a tree's ``src`` on ``PYTHONPATH`` to measure
that tree; stages a tree lacks are left out.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from benchmarks.ingest_peers.corpus import dataset_path, runner_docs_path
from benchmarks.machine import machine_info

REPO_ROOT = Path(__file__).resolve().parents[1]
BATCH = 5_000
MIB = 2**20


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class Stages:
    """Each wrapped callable's transient (peak above the live size at its call) and net."""

    def __init__(self) -> None:
        self.calls: dict[str, list[tuple[float, float]]] = {}

    def wrap(self, owner: Any, name: str, label: str) -> None:
        inner: Callable[..., Any] | None = getattr(owner, name, None)
        if inner is None:
            return

        @functools.wraps(inner)
        def measured(*args: Any, **kwargs: Any) -> Any:
            before, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            try:
                return inner(*args, **kwargs)
            finally:
                after, peak = tracemalloc.get_traced_memory()
                self.calls.setdefault(label, []).append(((peak - before) / MIB,
                                                         (after - before) / MIB))
                tracemalloc.reset_peak()  # an enclosing stage's peak is lost: see below

        setattr(owner, name, measured)

    def summary(self) -> list[dict[str, Any]]:
        return [{"stage": label, "calls": len(calls),
                 "max_transient_mib": max(t for t, _ in calls),
                 "mean_net_mib": sum(n for _, n in calls) / len(calls),
                 "last_transient_mib": calls[-1][0]}
                for label, calls in self.calls.items()]


def measure(count: int, seed: int, top: int) -> dict[str, Any]:
    from sift.engine import index as index_module
    from sift.engine.index import SearchIndex
    from sift.engine.settings import default_settings

    stages = Stages()
    # Inner stages only: wrapping upsert too would reset the peaks its stages read.
    stages.wrap(index_module.DocTable, "extend", "documents kept (DocTable.extend)")
    stages.wrap(index_module, "batch_postings", "word occurrences (batch_postings)")
    stages.wrap(index_module.SearchIndex, "_grow", "per-document arrays (_grow)")
    stages.wrap(index_module, "merge_segments", "merges (merge_segments; the last: idle)")
    stages.wrap(index_module.SearchIndex, "_build_view", "new view: vocabulary (_build_view)")
    path = runner_docs_path(dataset_path(count, seed))
    lines = [line for line in path.read_bytes().split(b"\n") if line]
    index = SearchIndex(default_settings(), "id")
    gc.collect()
    tracemalloc.start(1)
    started = time.perf_counter()
    for first in range(0, len(lines), BATCH):
        docs = [orjson.loads(line) for line in lines[first : first + BATCH]]
        index.hold()
        index.upsert([(str(doc["id"]), doc) for doc in docs])
        index.prepare()
        index.release()
    del docs, lines
    indexed_s = time.perf_counter() - started
    index.optimize(force=True)
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    snapshot = tracemalloc.take_snapshot()
    traced, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    stats = snapshot.statistics("lineno")
    kept = [{"mib": s.size / MIB, "blocks": s.count, "bytes_per_document": s.size / count,
             "where": str(s.traceback[0]).replace(str(REPO_ROOT) + "/", "")}
            for s in stats[:top]]
    return {"documents": count, "indexed_s": indexed_s, "traced_mib": traced / MIB,
            "rss_mib": _rss_mib(), "stages": stages.summary(), "kept": kept}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks import-peak",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--top", type=int, default=20, help="source lines of the index shown")
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)
    result = measure(args.docs, args.seed, args.top)
    report = {"command": "python -m benchmarks import-peak " + " ".join(argv or sys.argv[1:]),
              "machine": machine_info(REPO_ROOT), **result}
    print(f"{args.docs:,} documents in {result['indexed_s']:.1f} s; traced after the idle "
          f"merge {result['traced_mib']:.1f} MiB, RSS {result['rss_mib']:.1f} MiB")
    print("\n| stage | calls | most above its start (MiB) | last call's (MiB) "
          "| net per call (MiB) |")
    print("|---|---:|---:|---:|---:|")
    for row in result["stages"]:
        print(f"| {row['stage']} | {row['calls']} | {row['max_transient_mib']:.1f} "
              f"| {row['last_transient_mib']:.1f} | {row['mean_net_mib']:.2f} |")
    print("\n| kept by | MiB | blocks | bytes a document |")
    print("|---|---:|---:|---:|")
    for row in result["kept"]:
        print(f"| {row['where']} | {row['mib']:.1f} | {row['blocks']:,} "
              f"| {row['bytes_per_document']:.0f} |")
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
