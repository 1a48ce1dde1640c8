"""`python -m benchmarks.ingest.trees TREE_A TREE_B ...`: one ingestion per source tree,
trees alternated round after round, on the runner documents of `ingest-peers` (200k by
default, one NDJSON POST). For an A/B on a shared, loaded machine: besides the wall time
(POST start -> task seen succeeded) it records the server's own CPU seconds over the same
span (utime + stime of every thread, /proc/<pid>/stat), which moves much less with the
load than the wall time does, the server's peak RSS (VmHWM) once the task succeeded, and
the 1-minute load average at each start.

Each tree is a source checkout (`git worktree`, `git archive`): its `src` goes first on
the server's PYTHONPATH. Start each tree's server once beforehand: the first start
compiles the search kernels, which can outlast the health wait on a loaded machine.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks.ingest.measure import START_TIMEOUT_S, TASK_TIMEOUT_S, _server_args
from benchmarks.ingest.server import SiftServer, proc_status_mib
from benchmarks.ingest_peers.corpus import dataset_path, runner_docs_path
from benchmarks.runners.server_process import free_port

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, every thread, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _seconds(task: dict[str, Any]) -> float:
    start, end = (datetime.fromisoformat(task[k].rstrip("Z")) for k in ("startedAt", "finishedAt"))
    return (end - start).total_seconds()


def ingest(tree: Path, dataset: Path, documents: int) -> dict[str, float]:
    """One fresh server from ``tree``, the dataset in one POST, until the task succeeded."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-trees-"))
    key, port = secrets.token_urlsafe(24), free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree / "src"), str(tree)])}
    server = SiftServer(_server_args(port, workdir, key, None), workdir / "server.log", env)
    client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                          timeout=TASK_TIMEOUT_S)  # fmt: skip
    try:
        server.wait_healthy(url, START_TIMEOUT_S)
        body = dataset.read_bytes()
        load = os.getloadavg()[0]
        cpu0, began = cpu_seconds(server.pid), time.perf_counter()
        response = client.post("/indexes/products/documents", content=body,
                               headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
        response.raise_for_status()
        accepted = time.perf_counter() - began
        uid = response.json()["taskUid"]
        while (task := client.get(f"/tasks/{uid}").json())["status"] in ("enqueued",
                                                                          "processing"):
            time.sleep(0.05)  # the Meilisearch SDKs' interval, as benchmarks.ingest polls
        wall, cpu = time.perf_counter() - began, cpu_seconds(server.pid) - cpu0
        peak = proc_status_mib(server.pid, "VmHWM")
        if task["status"] != "succeeded" or task["details"]["indexedDocuments"] != documents:
            raise RuntimeError(f"ingestion task ended {task['status']}: {task.get('error')}")
        return {"wall_s": wall, "docs_per_s": documents / wall, "accepted_s": accepted,
                "task_s": _seconds(task), "server_cpu_s": cpu, "peak_rss_mib": peak,
                "load_1min": load}  # fmt: skip
    finally:
        client.close()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest.trees",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", type=Path, nargs="+", help="source trees, alternated")
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="JSON of every run")
    args = parser.parse_args(argv)
    dataset = runner_docs_path(dataset_path(args.docs, args.seed))
    runs: dict[str, list[dict[str, float]]] = {str(t): [] for t in args.trees}
    for number in range(1, args.rounds + 1):
        for tree in args.trees:
            run = ingest(tree.resolve(), dataset, args.docs)
            runs[str(tree)].append(run)
            shown = ", ".join(f"{k} {v:,.2f}" for k, v in run.items())
            print(f"round {number} {tree}: {shown}", flush=True)
    medians = {tree: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
               for tree, rs in runs.items()}  # fmt: skip
    first = str(args.trees[0])
    for tree, row in medians.items():
        ratio = medians[first]["wall_s"] / row["wall_s"]
        cpu_ratio = medians[first]["server_cpu_s"] / row["server_cpu_s"]
        print(f"median {tree}: {row['docs_per_s']:,.0f} docs/s, wall {row['wall_s']:.2f} s "
              f"(speed {ratio:.2f}x the first tree's), server CPU {row['server_cpu_s']:.2f} s "
              f"(the first tree's / this: {cpu_ratio:.2f})")
    report = {"documents": args.docs, "seed": args.seed, "rounds": args.rounds,
              "runs": runs, "medians": medians}  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
