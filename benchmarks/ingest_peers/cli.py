"""`python -m benchmarks.ingest_peers`: documents/s and peak RSS of bulk ingestion, per engine.

The corpus is `benchmarks.ingest`'s seeded product file (default 200,000 documents, seed
42). Every engine ingests it through its normal API, each in a fresh worker process
(`worker.py`), one run per engine, time-boxed (`--timeout`). Two workloads (`--workload`):

- products (the default; issue #18's ingest and peak-RSS targets are read on it): Sift and
  Typesense get the same seven-field documents configured as a shop does (Sift's settings
  set before the import: filterable brand, tags, in_stock, price, sortable price, rating;
  Typesense's schema with facets on brand and tags), in POSTs of `--docs-per-post`
  documents each (10,000, as `engine-speed`; a site imports in batches). The other
  engines' runners take only a `Doc`, so they run the text workload;
- text: every engine gets `{id, title, text}` (title = title, text = brand + tags): Sift
  as NDJSON in one POST, the others through the relevance runners' `index()`.

docs/s = documents / wall time of the whole ingestion until searchable (Sift: the last
task succeeded; Typesense: the last synchronous import answered). Peak RSS: the
server's VmHWM (sift, typesense), the JVM's (lucene), the worker's own (fts5, tantivy,
bm25s: engine + Doc list + interpreter); PostgreSQL's server memory is shared, so none.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.ingest_peers.corpus import WORKLOADS, dataset_path, engine_workload
from benchmarks.machine import machine_info

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS = REPO_ROOT / "benchmarks" / "results"
ENGINES = ("sift", "lucene", "typesense", "postgres", "fts5", "tantivy", "bm25s")
SMOKE_ENGINES = ("sift", "fts5", "bm25s")
SMOKE_DOCS = 1000
DOCS_PER_POST = 10_000
STOP_GRACE_S = 30


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ingest_peers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument(
        "--workload",
        choices=WORKLOADS,
        default="products",
        help="products: the seven fields with filters and facets for Sift and Typesense "
        "(the others stay on text); text: {id, title, text} for every engine",
    )
    parser.add_argument(
        "--docs-per-post",
        type=int,
        default=DOCS_PER_POST,
        help="products workload: documents per POST, the same for Sift and Typesense "
        "(0: the whole file in one POST)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--engines", default=",".join(ENGINES), help=f"comma-separated, of {', '.join(ENGINES)}"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per engine, round-robin over the engines; medians are reported",
    )
    parser.add_argument(
        "--timeout", type=float, default=330, help="seconds per engine before it is stopped"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"{SMOKE_DOCS:,} docs, {', '.join(SMOKE_ENGINES)} only, results in results/tmp/",
    )
    parser.add_argument(
        "--idle",
        type=float,
        default=0.0,
        help="Sift only: seconds idle after the task, then its VmHWM again (rss_peak_idle_mib: "
        "the task worker's idle merge included)",
    )
    parser.add_argument("--out-dir", type=Path, default=None, help="where the JSON and .md go")
    args = parser.parse_args(argv)
    if args.smoke:
        args.docs = SMOKE_DOCS
        args.engines = ",".join(SMOKE_ENGINES)
    args.engine_list = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in args.engine_list if e not in ENGINES]
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}; known: {', '.join(ENGINES)}")
    return args


def _last_json(path: Path, key: str) -> Any:
    found = None
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if key in record:
                found = record[key]
    return found


def _stop(process: subprocess.Popen[bytes], stdout: Path) -> None:
    """SIGTERM the worker's group (its close() stops its server), then SIGKILL everything."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    server_pid = _last_json(stdout, "server_pid")
    if server_pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(server_pid), signal.SIGKILL)


def run_engine(
    engine: str,
    dataset: Path,
    count: int,
    timeout_s: float,
    idle_s: float = 0.0,
    workload: str = "text",
    docs_per_post: int = 0,
) -> dict[str, Any]:
    """One engine in a fresh worker with a private TMPDIR, removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-ingest-peers-{engine}-"))
    stdout, stderr = workdir / "stdout", workdir / "stderr"
    env = {**os.environ, "TMPDIR": str(workdir)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "benchmarks.ingest_peers.worker", engine, str(dataset)]
    began = time.perf_counter()
    try:
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                [*command, str(count), str(idle_s), workload, str(docs_per_post)],
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                _stop(process, stdout)
                return {
                    "workload": workload,
                    "status": "timeout",
                    "note": f"not done after {timeout_s:.0f} s (whole worker wall time); stopped",
                }
        result = _last_json(stdout, "result")
        if process.returncode != 0 or result is None:
            tail = stderr.read_text(errors="replace").strip().splitlines()[-3:]
            return {"workload": workload, "status": "failed", "note": " | ".join(tail)[-600:]}
        result["status"] = "ok"
        result["docs_per_s"] = count / result["seconds"]
        result["worker_wall_s"] = time.perf_counter() - began
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def summarise(runs: list[dict[str, Any]], count: int) -> dict[str, Any]:
    """Medians over the successful runs (every run kept under `runs`)."""
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        return {**runs[-1], "runs": runs}
    row = {k: v for k, v in ok[0].items() if k not in ("seconds", "docs_per_s")}
    row["seconds"] = statistics.median(r["seconds"] for r in ok)
    row["docs_per_s"] = count / row["seconds"]
    for key in ("rss_before_mib", "rss_peak_mib", "rss_after_mib", "rss_peak_idle_mib"):
        values = [r[key] for r in ok if r.get(key) is not None]
        row[key] = statistics.median(values) if values else None
    row["successful_runs"] = len(ok)
    row["runs"] = runs
    return row


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _ratio(value: float | None, base: float | None) -> str:
    return "n/a" if value is None or not base else f"{value / base:.2f}"


def _same_workload_ratio(row: dict[str, Any], sift: dict[str, Any], key: str) -> str:
    """A ratio to Sift only where both ran the same workload: text against products is no
    comparison."""
    if row.get("workload") != sift.get("workload"):
        return f"n/a ({row.get('workload')})"
    return _ratio(row.get(key), sift.get(key))


def _workload_note(report: dict[str, Any]) -> str:
    if report["workload"] == "text":
        return ("Workload text: {id, title, text} for every engine; Sift in one POST, the "
                "others through their runner's index().")
    posts = (f"POSTs of {report['docs_per_post']:,} documents" if report["docs_per_post"]
             else "one POST")
    return ("Workload products: Sift and Typesense get the seven product fields, Sift's "
            "filterable and sortable settings set first, Typesense's schema with facets on "
            f"brand and tags, in {posts} for both; the other engines run text "
            "({id, title, text}, their runner's index()), so no ratio to Sift.")


def markdown(report: dict[str, Any]) -> str:
    engines: dict[str, dict[str, Any]] = report["engines"]
    sift = engines.get("sift", {})
    lines = [
        f"`{report['command']}`: {report['documents']:,} product documents (seed "
        f"{report['seed']}), workload {report['workload']}, medians of {report['repeat']} "
        "run(s) per engine, each run in a fresh process, engines taken round-robin.",
        "",
        "| engine | workload | docs/s | docs/s ratio to Sift | seconds | peak RSS MiB "
        "| peak RSS ratio to Sift "
        "| RSS before MiB | peak RSS of |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in engines.items():
        if row["status"] != "ok":
            lines.append(
                f"| {name} | {row['workload']} | {row['status']} | | | | | | {row['note']} |"
            )
            continue
        lines.append(
            f"| {name} | {row['workload']} | {row['docs_per_s']:,.0f} "
            f"| {_same_workload_ratio(row, sift, 'docs_per_s')} "
            f"| {row['seconds']:.2f} | {_fmt(row['rss_peak_mib'], '.0f')} "
            f"| {_same_workload_ratio(row, sift, 'rss_peak_mib')} "
            f"| {_fmt(row['rss_before_mib'], '.0f')} | {row['memory_of']} |"
        )
    lines += [
        "",
        _workload_note(report),
        "",
        "Timed: " + "; ".join(f"{n}: {r['timed']}" for n, r in engines.items() if "timed" in r),
        "",
        f"Machine: {report['machine'].get('cpu')}, {report['machine'].get('cores')} cores "
        f"(shared), load average at start {report['machine'].get('load_average_at_start')}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    command = "python -m benchmarks.ingest_peers " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    dataset = dataset_path(args.docs, args.seed)
    report: dict[str, Any] = {
        "command": command.strip(),
        "documents": args.docs,
        "seed": args.seed,
        "workload": args.workload,
        "docs_per_post": args.docs_per_post if args.workload == "products" else None,
        "dataset": str(dataset.relative_to(REPO_ROOT)),
        "timeout_s": args.timeout,
        "machine": machine_info(REPO_ROOT),
        "engines": {},
    }
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in args.engine_list}
    for attempt in range(args.repeat):
        for engine in args.engine_list:
            if runs[engine] and runs[engine][-1]["status"] == "timeout":
                continue  # one time-out is enough to report it as such
            print(f"{engine} run {attempt + 1}: {args.docs:,} documents, "
                  f"{engine_workload(engine, args.workload)} workload ...", flush=True)
            row = run_engine(engine, dataset, args.docs, args.timeout, args.idle,
                             engine_workload(engine, args.workload), args.docs_per_post)
            runs[engine].append(row)
            if row["status"] == "ok":
                print(
                    f"{engine}: {row['docs_per_s']:,.0f} docs/s ({row['seconds']:.2f} s), "
                    f"peak RSS {_fmt(row['rss_peak_mib'], '.0f')} MiB"
                    + (f", after {args.idle:g} s idle {row['rss_peak_idle_mib']:.0f} MiB"
                       if row.get("rss_peak_idle_mib") is not None else ""),
                    flush=True,
                )
            else:
                print(f"{engine}: {row['status']}: {row['note']}", flush=True)
    report["repeat"] = args.repeat
    report["engines"] = {e: summarise(r, args.docs) for e, r in runs.items()}
    out_dir = args.out_dir or (RESULTS / "tmp" if args.smoke else RESULTS)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"ingest-peers-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    (out_dir / f"{stem}.json").write_text(json.dumps(report, indent=2))
    table = markdown(report)
    (out_dir / f"{stem}.md").write_text(f"# Ingestion, every engine\n\n{table}")
    print(f"\n{table}\nwritten to {out_dir / stem}.json and .md")
    return report
