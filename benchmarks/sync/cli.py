"""`python -m benchmarks sync`: snapshot rows/s and change lag, per source kind.

For each of mysql (binlog), postgresql (logical replication) and postgresql-triggers:
a fresh source database with a 200k-row products table, a fresh `sift serve` with that
source; the snapshot is timed, then the lag at a sustained change rate. `--kill9-rounds`
also runs the kill -9 test (tests/sync/test_kill9.py) with that many kills per database;
`--capture` compares PostgreSQL's capture methods alone (capture.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.sync.measure import KEY, lag, snapshot, start_server
from benchmarks.sync.sources import source
from benchmarks.sync.stages import breakdown, show, show_timeline, timeline

TARGETS = {"rows_per_s": 20_000, "p50_ms": 300, "p99_ms": 1000}
KINDS = {"mysql": ("mysql", None), "postgresql": ("postgresql", None),
         "postgresql-triggers": ("postgresql", "triggers")}  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks sync", description=__doc__)
    parser.add_argument("--sources", default=",".join(KINDS), help="comma-separated")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rate", type=int, default=1000, help="row changes per second")
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="of sustained changes (0: the snapshot only)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--kill9-rounds", type=int, default=0)
    parser.add_argument("--capture", action="store_true",
                        help="compare PostgreSQL capture methods (stream, poll, triggers)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per source (and variant)")
    parser.add_argument("--baseline-src", type=Path, default=None,
                        help="the src folder of another Sift checkout (e.g. main's, from "
                        "`git worktree add`): each repeat runs its server, then this tree's, "
                        "and the summary gives medians and ratios")
    parser.add_argument("--stages", action="store_true",
                        help="this tree's server stamps each change's stages (SIFT_STAGE_TRACE): "
                        "print p50/p99 per stage of the probed changes (stages.py)")
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    return parser.parse_args(argv)


def run_one(name: str, args: argparse.Namespace, code: Path | None = None) -> dict[str, Any]:
    kind, capture = KINDS[name]
    with source(kind, args.rows, args.seed) as src, tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "stages.jsonl" if args.stages and code is None else None
        server, url = start_server(Path(tmp), src, capture, code, trace)
        try:
            headers = {"Authorization": f"Bearer {KEY}"}
            with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
                snap = snapshot(client, args.rows, pid=server.pid, healthy=server.healthy_at)
                print(f"{name}: snapshot {snap['rows_per_s']:,.0f} rows/s "
                      f"({snap['seconds']:.1f} s, {snap['tasks']} tasks; wall "
                      f"{snap['wall_rows_per_s']:,.0f} rows/s in {snap['wall_s']:.2f} s; CPU s: "
                      f"server {snap['server_cpu_s']:.1f}, its children "
                      f"{snap['reader_cpu_s']:.1f})",
                      flush=True)  # fmt: skip
                if trace is not None:
                    snap["timeline"] = timeline(trace, snap["healthy"], snap["done"])
                    show_timeline(name, snap["timeline"])
                if args.seconds <= 0:
                    return {"snapshot": snap, "lag": {"p50_ms": float("nan"),
                                                      "p99_ms": float("nan")}}  # fmt: skip
                changes = lag(src, client, args.rate, args.seconds, args.rows, args.seed)
                print(f"{name}: lag p50 {changes['p50_ms']:.0f} ms, p99 {changes['p99_ms']:.0f} "
                      f"ms, max {changes['max_ms']:.0f} ms at {changes['changes_per_s']:,.0f} "
                      f"changes/s ({changes['samples']} samples, {changes['missed']} missed)",
                      flush=True)  # fmt: skip
                print(f"{name}: in Sift, queued p50 {changes['queued_p50_ms']:.0f} ms (p99 "
                      f"{changes['queued_p99_ms']:.0f}), processing p50 "
                      f"{changes['processing_p50_ms']:.0f} ms (p99 "
                      f"{changes['processing_p99_ms']:.0f}) over {changes['tasks']} tasks",
                      flush=True)  # fmt: skip
                if trace is not None:
                    changes["stages"] = breakdown(trace, changes["probes"])
                    show(name, changes["stages"])
        finally:
            server.stop()
    return {"snapshot": snap, "lag": changes}


FIGURES = (("snapshot", "rows_per_s", "snapshot rows/s"),
           ("snapshot", "wall_rows_per_s", "snapshot wall rows/s"),
           ("snapshot", "outside_tasks_s", "snapshot s outside tasks"),
           ("snapshot", "server_cpu_s", "snapshot server CPU s"),
           ("snapshot", "reader_cpu_s", "snapshot reader CPU s"),
           ("lag", "p50_ms", "lag p50 ms"), ("lag", "p99_ms", "lag p99 ms"))  # fmt: skip


def _digits(variant: str, label: str) -> int:
    if variant == "ratio" or " s " in label:
        return 2
    return 1 if "CPU" in label else 0


def summary(runs: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    """Medians per source and variant, and this tree's over the baseline's (same run)."""
    table: dict[str, Any] = {}
    for name, variants in runs.items():
        row: dict[str, Any] = {}
        for variant, results in variants.items():
            row[variant] = {label: statistics.median(r[part].get(key, 0.0) for r in results)
                            for part, key, label in FIGURES}  # fmt: skip
        if "baseline" in row:
            # A baseline without a snapshot reader process has 0 reader CPU s: no ratio.
            row["ratio"] = {label: row["this"][label] / row["baseline"][label]
                            if row["baseline"][label] else float("nan")
                            for _, _, label in FIGURES}  # fmt: skip
        table[name] = row
        for variant, figures in row.items():
            shown = ", ".join(f"{label} {value:,.{_digits(variant, label)}f}"
                              for label, value in figures.items())  # fmt: skip
            what = ("this / baseline" if variant == "ratio"
                    else f"median of {len(variants[variant])}")  # fmt: skip
            print(f"{name} {variant} ({what}): {shown}", flush=True)
    return table


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    results: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()},
                               "load_before": load, "runs": {}}  # fmt: skip
    if args.capture:
        from benchmarks.sync.capture import compare

        results["capture"] = compare(args.rate, args.seconds, args.seed)
    variants: list[tuple[str, Path | None]] = [("this", None)]
    if args.baseline_src is not None:
        variants.insert(0, ("baseline", args.baseline_src.resolve()))
    for name in [s for s in args.sources.split(",") if s] if not args.capture else []:
        for repeat in range(args.repeat):
            for variant, code in variants:
                print(f"{name} {variant} run {repeat + 1}/{args.repeat}", flush=True)
                run = run_one(name, args, code)
                results["runs"].setdefault(name, {}).setdefault(variant, []).append(run)
    if results["runs"]:
        results["summary"] = summary(results["runs"])
    if args.kill9_rounds:
        began = time.monotonic()
        env = {**os.environ, "SIFT_SYNC_KILL9_ROUNDS": str(args.kill9_rounds)}
        done = subprocess.run([sys.executable, "-m", "pytest", "tests/sync/test_kill9.py", "-q",
                               "-s", "-p", "no:cacheprovider"], env=env, check=False)  # fmt: skip
        results["kill9"] = {"rounds": args.kill9_rounds, "passed": done.returncode == 0,
                            "seconds": time.monotonic() - began}  # fmt: skip
        print(f"kill -9: {'passed' if done.returncode == 0 else 'FAILED'}", flush=True)
    results["load_after"] = os.getloadavg()
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
