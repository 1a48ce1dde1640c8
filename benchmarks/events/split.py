"""`python -m benchmarks.events.split OUT_DIR [--workers N] [--seconds S] [--rate R]`: where a
search's time goes beside paced click events, inside a real `sift serve`.

The events benchmark's phases (one client's searches alone, then beside wrk's paced
events), twice, with two things it does not measure: each worker's own stamps of every
search (`split_site/sitecustomize.py`, loaded by the server's processes: route entry and
exit, the search's start and end on its thread or the loop, that thread's CPU and
run-queue wait, the events the worker parsed meanwhile), and every thread's CPU, run-queue
wait and switches over each phase from /proc/PID/task/*/schedstat and status (the
server's workers, wrk and this client). Prints medians per phase; raw data in OUT_DIR.
The stamps cost each search two /proc reads (~20-40 µs), alone and beside alike."""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.events import targets
from benchmarks.events.__main__ import (
    CACHE,
    PACED_CONNECTIONS,
    _search_latencies,
    _title_words,
    _wrk,
)
from benchmarks.ingest.dataset import write_dataset

SITE = Path(__file__).with_name("split_site")
DOCS = 20_000


def _descendants(pid: int) -> list[int]:
    kids = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            parent = int(Path(stat).read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if parent == pid:
            kid = int(stat.split("/")[2])
            kids += [kid, *_descendants(kid)]
    return kids


def _threads(pids: list[int]) -> dict[str, list[Any]]:
    """Per thread: name, CPU ns, run-queue wait ns, voluntary and involuntary switches."""
    snap = {}
    for pid in pids:
        for task in glob.glob(f"/proc/{pid}/task/*"):
            try:
                cpu, wait, _ = map(int, Path(task, "schedstat").read_text().split())
                name = Path(task, "comm").read_text().strip()
                status = dict(
                    line.split(":", 1) for line in Path(task, "status").read_text().splitlines()
                )
            except (OSError, ValueError):
                continue
            snap[f"{pid}/{name}/{task.rsplit('/', 1)[1]}"] = [
                cpu, wait, int(status["voluntary_ctxt_switches"]),
                int(status["nonvoluntary_ctxt_switches"]),
            ]  # fmt: skip
    return snap


def _per_second(before: dict[str, list[Any]], after: dict[str, list[Any]], secs: float
                ) -> dict[str, dict[str, float]]:  # fmt: skip
    return {
        key: {
            "cpu_ms_s": (now[0] - before[key][0]) / 1e6 / secs,
            "runq_ms_s": (now[1] - before[key][1]) / 1e6 / secs,
            "voluntary": now[2] - before[key][2],
            "involuntary": now[3] - before[key][3],
        }
        for key, now in after.items()
        if key in before
    }


def measure(out: Path, workers: int, seconds: float, rate: int) -> list[dict[str, Any]]:
    out.mkdir(parents=True, exist_ok=True)
    # Inherited by the server started below, not by this process.
    os.environ["SPLIT_EVENTS_OUT"] = str(out)
    os.environ["PYTHONPATH"] = f"{SITE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    CACHE.mkdir(parents=True, exist_ok=True)
    data = write_dataset(CACHE / f"products-{DOCS}-seed42.ndjson", DOCS, 42)
    phases = []
    with targets.sift(data, workers, "uvicorn") as target:
        words = _title_words(data)
        _search_latencies(target, words, 2)  # warm-up
        for _ in range(2):
            for kind in ("alone", "beside"):
                paced: dict[str, Any] = {}
                wrk = None
                if kind == "beside":
                    wrk = threading.Thread(
                        target=lambda into: into.update(
                            _wrk(target, seconds + 1, rate, DOCS, PACED_CONNECTIONS)
                        ),
                        args=(paced,),
                    )
                    wrk.start()
                    time.sleep(0.5)
                pids = [os.getpid(), *_descendants(os.getpid())]
                before, started = _threads(pids), time.perf_counter()
                load = os.getloadavg()[0]
                took = _search_latencies(target, words, seconds - 0.5)
                ended = time.perf_counter()
                after = _threads(pids)
                if wrk is not None:
                    wrk.join()
                phases.append({"kind": kind, "t0": started, "t1": ended, "load": load,
                               "client_ms": took, "wrk": paced, "client_pid": os.getpid(),
                               "threads": _per_second(before, after, ended - started)})  # fmt: skip
        time.sleep(1)  # the workers' last dump
    (out / "phases.json").write_text(json.dumps(phases))
    return phases


def report(out: Path) -> None:
    phases = json.loads((out / "phases.json").read_text())
    searches = []
    for dump in glob.glob(str(out / "[0-9]*.json")):
        searches += [r for r in json.loads(Path(dump).read_text())["records"]
                     if "t9" in r and "t2" in r]  # fmt: skip

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.2f}" if values else "-"

    for phase in phases:
        mine = [r for r in searches if phase["t0"] <= r["t0"] <= phase["t1"]]
        rate = len(phase["client_ms"]) / (phase["t1"] - phase["t0"])
        print(f"== {phase['kind']} (load {phase['load']:.2f}): client p50 "
              f"{statistics.median(phase['client_ms']):.2f} ms, {rate:.0f} searches/s, "
              f"paced {phase['wrk'].get('per_s', 0):.0f}/s")  # fmt: skip
        if mine:
            print(f"  route {ms([r['t9'] - r['t0'] for r in mine])} = before the search "
                  f"{ms([r['t1'] - r['t0'] for r in mine])} + search "
                  f"{ms([r['t2'] - r['t1'] for r in mine])} (CPU {ms([r['cpu'] for r in mine])}, "
                  f"run queue {ms([r['runq'] for r in mine])}) + after "
                  f"{ms([r['t9'] - r['t2'] for r in mine])} ms (medians); inline "
                  f"{sum(r['inline'] for r in mine) / len(mine):.0%}; events parsed by the "
                  f"worker per search {statistics.mean(r['e9'] - r['e0'] for r in mine):.1f}"
                  )  # fmt: skip
        rows = sorted(phase["threads"].items(), key=lambda kv: -kv[1]["cpu_ms_s"])
        for key, row in rows:
            if row["cpu_ms_s"] >= 5:
                print(f"  {key:36s} CPU {row['cpu_ms_s']:5.0f} ms/s  run queue "
                      f"{row['runq_ms_s']:5.0f} ms/s  switches {row['voluntary']}"
                      f" + {row['involuntary']} involuntary")  # fmt: skip
        total = sum(row["cpu_ms_s"] for _, row in rows)
        print(f"  all these threads: {total:.0f} ms/s of CPU ({rate and total / rate:.2f} ms "
              "per search)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.events.split", description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rate", type=int, default=2_000)
    args = parser.parse_args()
    measure(args.out, args.workers, args.seconds, args.rate)
    report(args.out)


if __name__ == "__main__":
    main()
