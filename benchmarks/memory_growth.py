"""`python -m benchmarks memory-growth`: how one process's RSS grows with a products index.

The seeded product documents of `benchmarks.ingest.dataset` (seed 42; brand, tags and
in_stock filterable, price and rating sortable) are indexed in process, 5,000 at a time
as a restart reads them from the database, into one `SearchIndex`; at each size of
``--docs`` the segments are merged (as after a restart), the collector and ``malloc_trim``
run, and /proc gives the RSS. The index's share is the RSS less the process's before the
first document; per document, that share over the documents. Run it with a tree's
``src`` on ``PYTHONPATH`` to measure that tree.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks.ingest.dataset import document
from benchmarks.machine import machine_info

REPO_ROOT = Path(__file__).resolve().parents[1]
BATCH = 5_000
SETTINGS = {"filterableAttributes": ["brand", "tags", "in_stock"],
            "sortableAttributes": ["price", "rating"]}


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _settle() -> None:
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def measure(sizes: list[int], seed: int) -> list[dict[str, float]]:
    from sift.engine.index import SearchIndex
    from sift.engine.settings import validate_settings

    rng = random.Random(seed)
    index = SearchIndex(validate_settings(dict(SETTINGS)), "id")
    _settle()
    base = _rss_mib()
    done, started, rows = 0, time.perf_counter(), []
    for size in sorted(sizes):
        while done < size:
            count = min(BATCH, size - done)
            # Through JSON, as the task worker and a restart hand documents over.
            docs = [orjson.loads(orjson.dumps(document(rng, i))) for i in range(done, done + count)]
            index.upsert([(str(doc["id"]), doc) for doc in docs])
            done += count
        index.optimize(force=True)
        _settle()
        rss = _rss_mib()
        rows.append({"documents": size, "rss_mib": rss, "index_mib": rss - base,
                     "index_bytes_per_document": (rss - base) * 2**20 / size,
                     "seconds": time.perf_counter() - started})
        print(f"{size:>10,} documents: RSS {rss:7.1f} MiB, index {rss - base:7.1f} MiB, "
              f"{rows[-1]['index_bytes_per_document']:6.0f} bytes a document", flush=True)
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks memory-growth",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--docs", default="10000,100000,1000000",
                        help="comma-separated sizes (default 10k, 100k, 1M)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)
    report = {"command": "python -m benchmarks memory-growth " + " ".join(argv or sys.argv[1:]),
              "machine": machine_info(REPO_ROOT), "settings": SETTINGS,
              "sizes": measure([int(n) for n in args.docs.split(",")], args.seed)}
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
