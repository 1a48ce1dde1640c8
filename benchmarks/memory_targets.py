"""`python -m benchmarks memory-targets`: issue #18's memory figures in one command.

1. Idle RSS with the demo: ``sift serve --demo`` on a fresh data directory until its
   34,006 cities are in, stopped, and started again on the same directory (what every
   restart is: the index rebuilt from SQLite); once healthy and idle, /proc gives VmRSS,
   RssAnon, RssFile and PSS. An empty data directory gives the process's own base.
   Several source trees (``--tree NAME=PATH``, e.g. main unpacked with ``git archive``)
   are measured in alternation, ``--rounds`` times: medians, and the ratio to the first.
2. Bytes per document at rest: the SQLite file over the cities, and the index's share of
   RSS ((idle - empty) / documents).
3. Peak RSS over 200k products beside Typesense: ``benchmarks.ingest_peers`` (each engine
   in a fresh process; Sift's ``sift serve`` VmHWM, Typesense's server VmHWM), for the
   first tree only (``--docs 0`` skips it), on both of its workloads: products (the seven
   fields with filters and facets, in POSTs of 10,000: the issue's target is read here)
   and text (``{id, title, text}`` in one POST, the figure published before 2026-12-08).

Results: JSON and Markdown in ``--out-dir`` (benchmarks/results/tmp by default).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.ingest_peers.cli import DOCS_PER_POST
from benchmarks.ingest_peers.cli import main as ingest_peers
from benchmarks.ingest_peers.corpus import WORKLOADS
from benchmarks.machine import machine_info

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "benchmarks" / "results" / "tmp"
CITIES = 34_006


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status_mib(pid: int) -> dict[str, float]:
    fields = ("VmRSS", "RssAnon", "RssFile")
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name = line.split(":")[0]
        if name in fields:
            out[name] = int(line.split()[1]) / 1024
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            out["Pss"] = int(line.split()[1]) / 1024
    return out


class Server:
    """``sift serve`` of one source tree on one data directory."""

    def __init__(self, tree: Path, data: Path, demo: bool) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree}"}
        args = [sys.executable, "-m", "sift", "serve", "--data-dir", str(data),
                "--port", str(self.port), "--log-level", "warning",
                "--config-file", str(data / "none.toml"), *(["--demo"] if demo else [])]
        self.proc = subprocess.Popen(args, env=env, cwd=tree, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def wait(self, documents: int) -> None:
        """Until healthy, ``documents`` cities in, no task waiting; then 3 s of idle."""
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sift serve exited with {self.proc.returncode}")
            try:
                if self._settled(documents):
                    time.sleep(3)
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError("sift serve did not settle")

    def _settled(self, documents: int) -> bool:
        if httpx.get(self.url + "/health", timeout=2).status_code != 200:
            return False
        if documents:
            stats = httpx.get(self.url + "/indexes/cities/stats", timeout=5)
            if stats.status_code != 200 or stats.json()["numberOfDocuments"] < documents:
                return False
        busy = httpx.get(self.url + "/tasks", params={"statuses": "enqueued,processing"},
                         timeout=5).json()
        return busy["total"] == 0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


def idle(tree: Path) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-memory-targets-"))
    try:
        empty = Server(tree, work / "empty", demo=False)
        empty.wait(0)
        base = _status_mib(empty.proc.pid)
        empty.stop()
        data = work / "demo"
        first = Server(tree, data, demo=True)
        first.wait(CITIES)
        loaded = _status_mib(first.proc.pid)
        first.stop()
        again = Server(tree, data, demo=True)
        again.wait(CITIES)
        restarted = _status_mib(again.proc.pid)
        again.stop()
        sqlite_bytes = (data / "sift.db").stat().st_size
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "empty": base,
        "first_start_loaded": loaded,
        "restarted_idle": restarted,
        "sqlite_bytes_per_document": sqlite_bytes / CITIES,
        "index_rss_bytes_per_document": (restarted["VmRSS"] - base["VmRSS"]) * 2**20 / CITIES,
    }


def peers(docs: int, out_dir: Path) -> dict[str, dict[str, Any]]:
    """Sift and Typesense over `docs` products, per ingest-peers workload."""
    figures = {}
    for workload in WORKLOADS:
        report = ingest_peers(["--docs", str(docs), "--engines", "sift,typesense", "--repeat",
                               "1", "--workload", workload, "--out-dir", str(out_dir)])
        figures[workload] = {
            e: {"peak_rss_mib": r.get("rss_peak_mib"), "docs_per_s": r.get("docs_per_s")}
            for e, r in report["engines"].items()}
    return figures


PEER_WORKLOADS = {
    "products": "products, seven fields, filters and facets, "
    f"POSTs of {DOCS_PER_POST:,} (the target)",
    "text": "{id, title, text}, one POST (the figure published before 2026-12-08)",
}


def peers_markdown(docs: int, peers: dict[str, dict[str, Any]]) -> str:
    lines = [f"| {docs:,} products | Sift peak RSS MiB | Typesense peak RSS MiB "
             "| Sift / Typesense peak | Sift docs/s | Typesense docs/s | Sift / Typesense docs/s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for workload, label in PEER_WORKLOADS.items():
        sift, ts = peers[workload]["sift"], peers[workload]["typesense"]
        lines.append(f"| {label} | {_num(sift['peak_rss_mib'])} | {_num(ts['peak_rss_mib'])} "
                     f"| {_quotient(sift['peak_rss_mib'], ts['peak_rss_mib'])} "
                     f"| {_num(sift['docs_per_s'])} | {_num(ts['docs_per_s'])} "
                     f"| {_quotient(sift['docs_per_s'], ts['docs_per_s'])} |")
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _quotient(value: float | None, base: float | None) -> str:
    return "n/a" if value is None or not base else f"{value / base:.2f}"


def _median(rounds: list[dict[str, Any]], *path: str) -> float:
    values = []
    for r in rounds:
        for key in path:
            r = r[key]
        values.append(float(r))  # type: ignore[arg-type]
    return statistics.median(values)


def markdown(report: dict[str, Any]) -> str:
    trees = report["trees"]
    first = next(iter(trees))
    rows = [("idle RSS with the demo, restarted (MiB)", ("restarted_idle", "VmRSS")),
            ("  of which anonymous (MiB)", ("restarted_idle", "RssAnon")),
            ("  of which file-backed (MiB)", ("restarted_idle", "RssFile")),
            ("  PSS (MiB)", ("restarted_idle", "Pss")),
            ("first start, demo just loaded (MiB)", ("first_start_loaded", "VmRSS")),
            ("empty data directory (MiB)", ("empty", "VmRSS")),
            ("SQLite bytes per city at rest", ("sqlite_bytes_per_document",)),
            ("index RSS bytes per city ((idle - empty) / 34,006)",
             ("index_rss_bytes_per_document",))]
    head = "| | " + " | ".join(trees) + " | " + " | ".join(
        f"{t} / {first}" for t in list(trees)[1:]) + " |"
    lines = [head.replace(" |  |", " |"), "|---|" + "---:|" * (2 * len(trees) - 1)]
    for label, path in rows:
        values = [_median(trees[t], *path) for t in trees]
        ratios = [f"{v / values[0]:.2f}" for v in values[1:]]
        lines.append(f"| {label} | " + " | ".join(f"{v:,.0f}" for v in values)
                     + "".join(f" | {r}" for r in ratios) + " |")
    out = "\n".join(lines)
    if report.get("peers"):
        out += ("\n\nSift: the tree this command runs from.\n\n"
                + peers_markdown(report["docs"], report["peers"]))
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks memory-targets",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                        help="a source tree to measure (default: this one)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--docs", type=int, default=200_000, help="0: no peak-RSS run")
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    trees = dict(t.split("=", 1) for t in args.tree) or {"this": str(REPO_ROOT)}
    report: dict[str, Any] = {
        "command": "python -m benchmarks memory-targets " + " ".join(argv or sys.argv[1:]),
        "machine": machine_info(REPO_ROOT),
        "load_average_start": os.getloadavg(),
        "docs": args.docs,
        "trees": {name: [] for name in trees},
    }
    for round_no in range(args.rounds):
        for name, path in trees.items():
            print(f"round {round_no + 1}: {name} ...", flush=True)
            report["trees"][name].append(idle(Path(path).resolve()))
    if args.docs:
        report["peers"] = peers(args.docs, args.out_dir)
    report["load_average_end"] = os.getloadavg()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"memory-targets-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    (args.out_dir / f"{stem}.json").write_text(json.dumps(report, indent=2))
    table = markdown(report)
    (args.out_dir / f"{stem}.md").write_text(f"# Memory targets\n\n{table}\n")
    print(f"\n{table}\n\nwritten to {args.out_dir / stem}.json and .md")
    return report


if __name__ == "__main__":
    main()
