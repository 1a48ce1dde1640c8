"""`python -m benchmarks.events.cost`: what 2,000 click events a second cost a `sift serve`,
measured where the machine's load matters least: the server's CPU per event (every process
and thread, from /proc) and how much of the time each worker's event loop thread holds the
GIL (py-spy `--gil` samples), which is the time a search thread of that worker cannot run.

Several trees are served at once (``--tree name=src``, each a `src` directory put first on
PYTHONPATH) and measured in turn, the order reversed every round, so that the load of a
shared machine drifts over all of them alike. No searches are sent: search latency beside
events is `python -m benchmarks events`'s figure. 127.0.0.1 only; every phase time-boxed."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.events import targets
from benchmarks.events.__main__ import CACHE, PACED_CONNECTIONS, ROOT, _wrk
from benchmarks.ingest.dataset import write_dataset
from benchmarks.load.cpu import process_tree_cpu_s

SAMPLE_HZ = 500


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _server_processes(port: str) -> tuple[list[int], list[int]]:
    """The server's supervisors (their process trees are the server) and its workers."""
    found = subprocess.run(["pgrep", "-f", "--", f"--port {port}"], capture_output=True,
                           text=True).stdout  # fmt: skip
    supervisors = [int(p) for p in found.split()]
    children = [c for s in supervisors for c in _children(s)]
    workers = [c for c in children if "sift.server" in _cmdline(c) or "spawn_main" in _cmdline(c)]
    return supervisors, workers


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def _cpu_s(supervisors: list[int]) -> float:
    """CPU seconds of the server: every process of its supervisors' trees."""
    return sum(process_tree_cpu_s(pid) or 0.0 for pid in supervisors)


def _loop_gil_samples(path: Path) -> int:
    """Samples of the main (event loop) thread in a py-spy raw file: its stacks start at
    the module, every other thread's at `Thread._bootstrap`."""
    count = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if stack.startswith("<module>"):
            count += int(n)
    return count


def _round(target: Any, supervisors: list[int], workers: list[int], seconds: float, rate: int,
           out_dir: Path, label: str, route: str = "events") -> dict[str, float]:  # fmt: skip
    path = "events" if route == "events" else target.cheap_path  # as the events benchmark's
    sent: dict[str, Any] = {}
    wrk = threading.Thread(target=lambda: sent.update(
        _wrk(target, seconds + 2, rate, 20_000, PACED_CONNECTIONS, path)))  # fmt: skip
    wrk.start()
    time.sleep(1)  # past wrk's start
    before = _cpu_s(supervisors)
    files = [out_dir / f"{label}-{w}.txt" for w in workers]
    spies = [subprocess.Popen(["py-spy", "record", "--pid", str(w), "--gil", "--nonblocking",
                               "-r", str(SAMPLE_HZ), "-d", str(int(seconds)), "-f", "raw",
                               "-o", str(f)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for w, f in zip(workers, files, strict=True)]  # fmt: skip
    for spy in spies:
        spy.wait(timeout=seconds + 30)
    cpu = _cpu_s(supervisors) - before
    wrk.join()
    events = sent["per_s"] * int(seconds)
    held = [_loop_gil_samples(f) / SAMPLE_HZ / int(seconds) for f in files if f.exists()]
    return {
        "per_s": sent["per_s"],
        "server_cpu_us_per_event": cpu / events * 1e6,
        "loop_gil_share": statistics.mean(held) if held else float("nan"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.events.cost", description=__doc__)
    parser.add_argument("--tree", action="append", required=True, metavar="NAME=SRC",
                        help="a tree to serve: its src directory (repeat for each)")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=5, help="length of each measurement")
    parser.add_argument("--rate", type=int, default=2_000, help="paced events per second")
    parser.add_argument("--paced-route", choices=("events", "version"), default="events",
                        help="what wrk sends: click events, or GET /version (the events "
                             "benchmark's control; 'event' then reads 'request')")  # fmt: skip
    args = parser.parse_args(argv)
    if shutil.which("py-spy") is None or shutil.which("wrk") is None:
        raise SystemExit("needs py-spy and wrk on PATH")
    trees = [spec.split("=", 1) for spec in args.tree]
    data = write_dataset(CACHE / "products-20000-seed42.ndjson", 20_000, 42)
    out_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"events-cost-{os.getpid()}"
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in trees}
    with contextlib.ExitStack() as stack:
        served = {}
        for name, src in trees:
            env = dict(os.environ)
            os.environ["PYTHONPATH"] = f"{src}:{ROOT}"  # the server process inherits it
            target = stack.enter_context(targets.sift(data, 2, "uvicorn"))
            os.environ.clear()
            os.environ.update(env)
            served[name] = (target, *_server_processes(target.url.rsplit(":", 1)[1]))
        for number in range(args.rounds):
            for name, _ in trees if number % 2 == 0 else trees[::-1]:
                target, supervisors, workers = served[name]
                shot = _round(target, supervisors, workers, args.seconds, args.rate, out_dir,
                              f"{name}-{number}", args.paced_route)  # fmt: skip
                results[name].append(shot)
                print(f"round {number + 1} {name}: {shot['per_s']:,.0f} events/s, server CPU "
                      f"{shot['server_cpu_us_per_event']:.0f} µs/event, each loop thread "
                      f"holds the GIL {shot['loop_gil_share']:.0%} of the time",
                      flush=True)  # fmt: skip
    shutil.rmtree(out_dir, ignore_errors=True)
    for name, shots in results.items():
        cpu = statistics.median(s["server_cpu_us_per_event"] for s in shots)
        gil = statistics.median(s["loop_gil_share"] for s in shots)
        print(f"{name}: medians of {len(shots)}: server CPU {cpu:.0f} µs/event, loop thread "
              f"holding the GIL {gil:.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
