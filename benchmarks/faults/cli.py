"""`python -m benchmarks faults`: a seeded fault run; writes JSON and Markdown results.

Exit status 1 when a check failed (the failures are printed and in the results file).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.faults.injectors import FAULTS
from benchmarks.faults.run import RunConfig, RunResult, run
from benchmarks.machine import machine_info
from benchmarks.report import write_summary

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS = REPO_ROOT / "benchmarks" / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks faults", description=__doc__)
    parser.add_argument("--faults", type=int, default=100, help="faults to inject (default 100)")
    parser.add_argument("--seed", type=int, default=None, help="default: from the clock")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument(
        "--lease-timeout",
        type=float,
        default=2.0,
        help="the nodes' --lease-timeout, seconds (default 2)",
    )
    parser.add_argument(
        "--kinds", default=",".join(FAULTS), help=f"comma-separated, of {', '.join(FAULTS)}"
    )
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument("--workdir", type=Path, help="keep the nodes' logs here")
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def render_markdown(summary: dict) -> str:
    lines = [
        f"# Fault run, seed {summary['seed']}",
        "",
        f"{summary['faults']} faults, {summary['nodes']} nodes, lease timeout "
        f"{summary['lease_timeout_s']:g} s, {summary['seconds']:.0f} s in all. Requests: "
        f"{summary.get('requests_acked', 0)} acknowledged, {summary.get('requests_in-doubt', 0)}"
        f" in doubt, {summary.get('requests_rejected', 0)} rejected; "
        f"{summary.get('requests_committed', 0)} committed; the lease taken "
        f"{summary.get('lease_epochs', 0)} times; {summary.get('batches', 0)} batches,"
        f" {summary.get('documents', 0)} documents at the end; every node's answers matched "
        f"after {summary.get('search_converged_s', '?')} s.",
        "",
        "| fault | count | writes wait, median | max |",
        "|---|---:|---:|---:|",
    ]
    for kind, row in summary["recovery_s"].items():
        lines.append(f"| {kind} | {row['count']} | {row['median']:.1f} s | {row['max']:.1f} s |")
    lines += ["", f"Checks: {'all passed' if not summary['failures'] else 'FAILED'}"]
    lines += [f"- {failure}" for failure in summary["failures"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> RunResult:
    args = parse_args(argv)
    seed = args.seed if args.seed is not None else time.time_ns() % 1_000_000
    kinds = tuple(k for k in args.kinds.split(",") if k)
    unknown = set(kinds) - set(FAULTS)
    if unknown:
        raise SystemExit(f"unknown fault kinds: {', '.join(sorted(unknown))}")
    print(f"fault run: seed {seed} (rerun with --seed {seed})", flush=True)
    config = RunConfig(
        faults=args.faults,
        seed=seed,
        nodes=args.nodes,
        clients=args.clients,
        lease_timeout=args.lease_timeout,
        redis=not args.no_redis,
        kinds=kinds,
        workdir=args.workdir,
    )
    # A background job ignores SIGINT: let SIGTERM stop the run and tear everything down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = datetime.now(UTC)
    result = run(config, log=lambda line: print(line, flush=True))
    summary = result.summary()
    summary["machine"] = machine_info(REPO_ROOT)
    markdown = render_markdown(summary)
    stem = write_summary(args.out_dir, f"faults-{started:%Y%m%dT%H%M%SZ}", summary, markdown)
    print(markdown)
    print(f"Wrote {stem}.json and .md; nodes' logs in {result.workdir}", file=sys.stderr)
    if not result.ok:
        raise SystemExit(1)
    return result
