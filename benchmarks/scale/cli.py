"""`python -m benchmarks scale`: how a products index grows from 10k to 1M documents.

For each size: generate the products (benchmarks/ingest/dataset.py, seeded), ingest them
through the API into a fresh server, restart it on the same SQLite database (the index is
rebuilt from it), then send the typeahead mix (benchmarks/scale/queries.py: typed
prefixes, one filter, facets on `brand` and `tags`) one request at a time. Reported per
size, as medians over ``--repeat`` runs: engine-reported search time (performanceDetails,
0.01 ms) and end-to-end latency p50/p99, restart time (from the index image written at
the previous stop, and rebuilt from the database), RSS and bytes per document.

Targets (issue #18): at 1M documents engine p50 <= 5 ms, p99 <= 20 ms; restart <= 60 s."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.ingest.dataset import write_dataset
from benchmarks.machine import machine_info
from benchmarks.scale.measure import SizeResult, measure, median_of

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "benchmarks" / ".cache" / "ingest"
RESULTS = ROOT / "benchmarks" / "results" / "tmp"

COLUMNS = (
    ("documents", "docs", "{:,.0f}"),
    ("engine_p50_ms", "engine p50 ms", "{:.2f}"),
    ("engine_p99_ms", "engine p99 ms", "{:.2f}"),
    ("e2e_p50_ms", "end-to-end p50 ms", "{:.2f}"),
    ("e2e_p99_ms", "end-to-end p99 ms", "{:.2f}"),
    ("restart_s", "restart (image) s", "{:.1f}"),
    ("restart_cpu_s", "its CPU s", "{:.1f}"),
    ("rebuild_s", "restart (rebuild) s", "{:.1f}"),
    ("rebuild_cpu_s", "its CPU s", "{:.1f}"),
    ("empty_start_s", "empty start s", "{:.1f}"),
    ("stop_s", "stop s", "{:.1f}"),
    ("ingest_docs_per_s", "ingest docs/s", "{:,.0f}"),
    ("rss_loaded_mib", "RSS loaded MiB", "{:,.0f}"),
    ("restart_peak_rss_mib", "restart peak MiB", "{:,.0f}"),
    ("rebuild_peak_rss_mib", "rebuild peak MiB", "{:,.0f}"),
    ("ingest_peak_rss_mib", "ingest peak MiB", "{:,.0f}"),
    ("bytes_per_doc_rss", "RSS bytes/doc", "{:,.0f}"),
    ("bytes_per_doc_sqlite", "SQLite bytes/doc", "{:,.0f}"),
    ("image_bytes_per_doc", "image bytes/doc", "{:,.0f}"),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1000, help="measured searches per size")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size (medians)")
    parser.add_argument("--seed", type=int, default=42, help="of the products and the queries")
    parser.add_argument("--via", choices=("api", "storage"), default="api",
                        help="ingest through the API (indexing as it goes, then the image "
                        "restart, then a rebuild) or write the rows through sift.storage "
                        "(a start rebuilds, its stop writes the image, then the image "
                        "restart): one indexing pass fewer")  # fmt: skip
    parser.add_argument("--rebuild-limit", type=float, default=900,
                        help="seconds a rebuild from the database may take before it is "
                        "reported as timed out")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    return parser.parse_args(argv)


def table(medians: list[dict[str, float | None]]) -> str:
    lines = ["| " + " | ".join(title for _, title, _ in COLUMNS) + " |",
             "|" + "---:|" * len(COLUMNS)]  # fmt: skip
    for row in medians:
        cells = ("-" if row[key] is None else fmt.format(row[key])
                 for key, _, fmt in COLUMNS)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {"benchmark": "scale", "seed": args.seed, "via": args.via,
                                 "machine": machine_info(ROOT), "sizes": {}}  # fmt: skip
    medians = []
    for count in args.docs:
        dataset = write_dataset(CACHE / f"products-{count}-seed{args.seed}.ndjson", count,
                                args.seed)  # fmt: skip
        runs: list[SizeResult] = []
        for attempt in range(args.repeat):
            run = measure(dataset, count, args.queries, args.seed, args.via,
                          args.rebuild_limit)  # fmt: skip
            s = run.summary()
            print(f"{count:,} docs, run {attempt + 1}: engine p50 {s['engine_p50_ms']:.2f} ms "
                  f"p99 {s['engine_p99_ms']:.2f} ms, end to end p50 {s['e2e_p50_ms']:.2f} ms, "
                  f"restart {s['restart_s']:.1f} s (rebuild {s['rebuild_s'] or 'timed out'} s), "
                  f"RSS {s['rss_loaded_mib']:.0f} MiB",
                  flush=True)  # fmt: skip
            runs.append(run)
        row = {key: median_of(runs, key) for key in runs[0].summary()}
        medians.append(row)
        report["sizes"][str(count)] = {  # type: ignore[index]
            "median": row, "runs": [r.as_dict() for r in runs]}
    print(f"\nmedians of {args.repeat} run(s), {args.queries} searches each")
    print(table(medians))
    out = args.out or RESULTS / f"scale-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {out}")
