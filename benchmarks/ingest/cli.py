"""`python -m benchmarks.ingest`: docs/s and peak server memory for bulk NDJSON ingestion.

For each size (default 50,000 and 200,000 documents) and each repetition, a fresh
server on a temporary data directory receives the whole file in one POST. Reported:
docs/s from the POST's start to the task seen succeeded, docs/s over the task's own
startedAt..finishedAt, and the server's RSS before the POST, at its peak (VmHWM) and
once the task finished (what the in-memory search index keeps).
Medians over the repetitions; every run is also written to a JSON file.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

from benchmarks.ingest.dataset import write_dataset
from benchmarks.ingest.measure import Measurement, measure

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "ingest"
RESULTS = Path(__file__).resolve().parents[1] / "results"
TARGET_DOCS_PER_S = 20_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest", description=__doc__)
    parser.add_argument("--docs", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="the server's --batch-size (default: its own)"
    )
    parser.add_argument(
        "--parts",
        type=int,
        default=1,
        help="POST the file in this many requests: same corpus, smaller payloads",
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    return parser.parse_args(argv)


def summarise(runs: list[Measurement]) -> dict[str, float]:
    keys = ("docs_per_s", "task_docs_per_s", "total_s", "accepted_s", "task_s")
    summary = {k: statistics.median(r.as_dict()[k] for r in runs) for k in keys}
    summary["rss_start_mib"] = statistics.median(r.rss_start_mib for r in runs)
    summary["rss_peak_mib"] = statistics.median(r.rss_peak_mib for r in runs)
    summary["rss_after_mib"] = statistics.median(r.rss_after_mib for r in runs)
    return summary


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    CACHE.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "seed": args.seed,
        "batch_size": args.batch_size,
        "parts": args.parts,
        "sizes": {},
    }
    lines = [
        "| docs | MiB per POST | docs/s (POST->done) | docs/s (task) | accepted s | task s "
        "| RSS start MiB | RSS peak MiB | RSS after MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for count in args.docs:
        dataset = write_dataset(
            CACHE / f"products-{count}-seed{args.seed}.ndjson", count, args.seed
        )
        runs = []
        for attempt in range(args.repeat):
            run = measure(dataset, count, args.batch_size, args.parts)
            print(
                f"{count} docs, run {attempt + 1}: {run.docs_per_s:,.0f} docs/s end to end, "
                f"{run.task_docs_per_s:,.0f} docs/s in the task, "
                f"peak RSS {run.rss_peak_mib:.0f} MiB",
                flush=True,
            )
            runs.append(run)
        summary = summarise(runs)
        report["sizes"][str(count)] = {  # type: ignore[index]
            "median": summary,
            "runs": [r.as_dict() for r in runs],
        }
        lines.append(
            f"| {count:,} | {runs[0].payload_bytes / (1 << 20):.1f} | {summary['docs_per_s']:,.0f} "
            f"| {summary['task_docs_per_s']:,.0f} | {summary['accepted_s']:.2f} "
            f"| {summary['task_s']:.2f} | {summary['rss_start_mib']:.0f} "
            f"| {summary['rss_peak_mib']:.0f} | {summary['rss_after_mib']:.0f} |"
        )
    print(f"\nmedians of {args.repeat} runs (target: {TARGET_DOCS_PER_S:,} docs/s end to end)")
    print("\n".join(lines))
    out = (
        args.out
        or RESULTS / "tmp" / f"ingest-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten to {out}")
