"""`python -m benchmarks.scale.threads DATA_DIR --out F.json`: where a server's engine time
goes, thread by thread.

Starts `sift serve` on a data directory that already holds an index (a start from its
image, as the scale harness's second start), sends the harness's typeahead mix from one
client (``--passes`` times in a row), and before and after each request reads every
thread's ``/proc/PID/task/TID/schedstat`` (ns on a CPU, ns waiting for one) and ``stat``
(minor and major faults); the threads are named by ``py-spy dump`` when it is installed.
Per pass it prints the server-reported engine time (``performanceDetails.search``, wall)
beside the CPU and run-queue wait of the thread that ran the search (the one that ran
most during the request) and its faults: what the wall figure is made of. The task
worker's share (its CPU during searches) shows the start's own work. Memory afterwards:
VmRSS/VmHWM. Environment variables pass through to the server (``MALLOC_ARENA_MAX``,
``SIFT_SEARCH_THREADS``) to compare set-ups. ``--pause S`` waits S seconds before each
pass after the first: past ``TRIM_AFTER_S`` the search threads have handed their malloc
arenas' free tops back (sift.http.search_placement), so the pass shows what a trim costs
the searches after it (the first search's faults and time are printed apart).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.ingest.server import SiftServer, proc_status_mib
from benchmarks.runners.server_process import free_port
from benchmarks.scale.measure import WARM_QUERIES, percentile
from benchmarks.scale.queries import typeahead

Sample = dict[str, tuple[int, int, int, int]]  # tid -> (run ns, wait ns, minflt, majflt)


def sample(pid: int) -> Sample:
    out: Sample = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            run, wait, _ = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        out[tid] = (int(run), int(wait), int(stat[7]), int(stat[9]))
    return out


def thread_names(pid: int) -> dict[str, str]:
    try:
        dump = subprocess.run(["py-spy", "dump", "--pid", str(pid)], capture_output=True,
                              text=True, check=False).stdout  # fmt: skip
    except OSError:
        return {}
    return dict(re.findall(r'Thread (\d+) \(\w+\): "([^"]+)"', dump))


def _ms(text: str) -> float:
    return float(text[:-2]) if text.endswith("ms") else float(text[:-1]) * 1000


def summary(rows: list[dict[str, Any]], names: dict[str, str]) -> dict[str, float]:
    """One pass's figures: engine wall, the searching thread's CPU and run-queue wait
    (ms, p50/p99), its faults per search (mean), the task worker's CPU during searches."""
    wall, cpu, queued, faults, worker = [], [], [], [], 0.0
    for row in rows:
        threads = row["threads"]
        searcher = max(threads, key=lambda t: threads[t][0])
        wall.append(_ms(row["engine"]))
        cpu.append(threads[searcher][0] / 1e6)
        queued.append(threads[searcher][1] / 1e6)
        faults.append(threads[searcher][2])
        worker += sum(v[0] / 1e6 for t, v in threads.items() if names.get(t) == "sift-worker")
    return {"wall_p50": percentile(wall, 50), "wall_p99": percentile(wall, 99),
            "cpu_p50": percentile(cpu, 50), "cpu_p99": percentile(cpu, 99),
            "queued_p99": percentile(queued, 99), "faults_mean": statistics.mean(faults),
            "worker_ms": worker}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale.threads",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="a data directory holding the index")
    parser.add_argument("--out", type=Path, required=True, help="per-request samples (JSON)")
    parser.add_argument("--queries", type=int, default=1000, help="measured searches a pass")
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--index", default="products")
    parser.add_argument("--pause", type=float, default=0.0,
                        help="seconds without a search before each pass after the first")
    parser.add_argument("--analytics", action="store_true",
                        help="leave the server's search analytics on (the harness turns it off)")
    args = parser.parse_args(argv)
    port, key = free_port(), "threads-benchmark-master-key"
    url = f"http://127.0.0.1:{port}"
    server = SiftServer(["--port", str(port), "--data-dir", str(args.data),
                         "--config-file", str(args.data.parent / "absent.toml"),
                         "--master-key", key, "--log-level", "warning",
                         *([] if args.analytics else ["--no-analytics"])],
                        args.out.with_suffix(".server.log"))  # fmt: skip
    try:
        began = time.perf_counter()
        server.wait_healthy(url, 900)
        print(f"healthy after {time.perf_counter() - began:.1f} s", flush=True)
        names = thread_names(server.pid)
        bodies = typeahead(args.queries + WARM_QUERIES, args.seed)
        passes: list[list[dict[str, Any]]] = []
        with httpx.Client(base_url=url, timeout=60,
                          headers={"Authorization": f"Bearer {key}"}) as client:  # fmt: skip
            for number in range(args.passes):
                if number and args.pause:
                    before = proc_status_mib(server.pid, "VmRSS")
                    time.sleep(args.pause)
                    print(f"RSS {before:.1f} MiB before the pause, "
                          f"{proc_status_mib(server.pid, 'VmRSS'):.1f} after", flush=True)
                rows = []
                for body in bodies:
                    before = sample(server.pid)
                    response = client.post(f"/indexes/{args.index}/search", json=body)
                    after = sample(server.pid)
                    response.raise_for_status()
                    zero = (0, 0, 0, 0)
                    spent = {t: [a - b for a, b in zip(v, before.get(t, zero), strict=True)]
                             for t, v in after.items()}  # fmt: skip
                    rows.append({"q": body["q"], "filter": body["filter"], "threads": spent,
                                 "engine": response.json()["performanceDetails"]["search"]})
                passes.append(rows[WARM_QUERIES:])
                first = rows[0]["threads"]
                searcher = max(first, key=lambda t: first[t][0])
                print(f"pass {number + 1}'s first search: engine {rows[0]['engine']}, "
                      f"{first[searcher][2]} minor faults", flush=True)  # fmt: skip
        memory = {line.split(":")[0]: line.split()[1] + " kB" for line in
                  Path(f"/proc/{server.pid}/status").read_text().splitlines()
                  if line.startswith(("VmRSS", "VmHWM"))}  # fmt: skip
    finally:
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(300)
    args.out.write_text(json.dumps({"names": names, "passes": passes, "memory": memory}))
    for number, rows in enumerate(passes, 1):
        s = summary(rows, names)
        print(f"pass {number}: engine wall p50 {s['wall_p50']:.2f} p99 {s['wall_p99']:.2f} ms; "
              f"search thread CPU p50 {s['cpu_p50']:.2f} p99 {s['cpu_p99']:.2f}, run-queue "
              f"wait p99 {s['queued_p99']:.2f}, minor faults {s['faults_mean']:.0f} a search "
              f"(mean); task worker {s['worker_ms']:.0f} ms during searches")  # fmt: skip
    print("after the searches:", memory)


if __name__ == "__main__":
    main()
