"""`python -m benchmarks idle-cost`: what an idle ``sift serve`` spends, thread by thread.

The demo (34,006 cities, ``sift serve --demo`` on SQLite) is loaded once per source tree
(``--tree NAME=PATH``, e.g. main unpacked with ``git archive``); then each round
restarts every tree's server on its own data directory, in alternation (the order
reversed every round), lets it settle, and reads each thread's CPU time
(``/proc/PID/task/TID/schedstat``, in nanoseconds) and voluntary context switches (each
one a sleep that ended: a wake-up) at the start and the end of ``--seconds``. Threads are
named by ``py-spy dump`` (the kernel names them all after the process). What an idle
server spends is taken from the cores, and the GIL, of whatever search arrives then.

Output: ms of CPU and wake-ups a second per thread and for the whole process, the
median over rounds, as Markdown on stdout and JSON in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.memory_targets import CITIES, Server

SETTLE_S = 5.0  # after the server is healthy and idle: the start-up's last work done


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit("py-spy is needed to name the threads (pip install py-spy)")
    return found


def thread_names(pid: int) -> dict[int, str]:
    """Python's name of each thread (OS thread id -> name), from ``py-spy dump``."""
    out = subprocess.run([_py_spy(), "dump", "--json", "--pid", str(pid)], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return {t["os_thread_id"]: t.get("thread_name") or "?" for t in json.loads(out)
            if t.get("os_thread_id") is not None}  # fmt: skip


def sample(pid: int) -> dict[int, tuple[int, int]]:
    """Each thread's CPU nanoseconds and voluntary context switches so far."""
    out: dict[int, tuple[int, int]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            cpu_ns = int((task / "schedstat").read_text().split()[0])
            status = (task / "status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended meanwhile
        switches = next(int(line.split()[1]) for line in status.splitlines()
                        if line.startswith("voluntary_ctxt_switches"))  # fmt: skip
        out[int(task.name)] = (cpu_ns, switches)
    return out


def measure(pid: int, seconds: float) -> dict[str, dict[str, float]]:
    """Per thread name: ``cpu_ms_s`` and ``wakeups_s`` over ``seconds`` of idle."""
    names = thread_names(pid)
    time.sleep(1.0)  # py-spy's pause is over
    before = sample(pid)
    time.sleep(seconds)
    after = sample(pid)
    rows: dict[str, dict[str, float]] = {}
    for tid, (cpu_ns, switches) in after.items():
        cpu0, switches0 = before.get(tid, (0, 0))
        comm = Path(f"/proc/{pid}/task/{tid}/comm")
        name = names.get(tid) or f"[{comm.read_text().strip() if comm.exists() else tid}]"
        row = rows.setdefault(name, {"cpu_ms_s": 0.0, "wakeups_s": 0.0})
        row["cpu_ms_s"] += (cpu_ns - cpu0) / 1e6 / seconds
        row["wakeups_s"] += (switches - switches0) / seconds
    rows["(process)"] = {k: sum(r[k] for r in rows.values()) for k in ("cpu_ms_s", "wakeups_s")}
    return rows


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    trees = {name: Path(path).resolve() for name, path in
             (spec.split("=", 1) for spec in args.tree)}  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="bench-idle-cost-"))
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    try:
        for name, tree in trees.items():  # the demo loaded once per tree
            first = Server(tree, work / name, demo=True)
            first.wait(CITIES)
            first.stop()
        order = list(trees)
        for round_ in range(args.rounds):
            for name in order if round_ % 2 == 0 else order[::-1]:
                server = Server(trees[name], work / name, demo=True)
                try:
                    server.wait(CITIES)
                    time.sleep(SETTLE_S)
                    load = _load()
                    threads = measure(server.proc.pid, args.seconds)
                finally:
                    server.stop()
                runs[name].append({"load": load, "threads": threads})
                print(f"round {round_ + 1} {name}: {threads['(process)']['cpu_ms_s']:.2f} ms/s, "
                      f"{threads['(process)']['wakeups_s']:.1f} wake-ups/s, load {load}",
                      file=sys.stderr)  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = {"seconds": args.seconds, "runs": runs, "medians": _medians(runs)}
    print(_markdown(report["medians"]))
    if args.out is not None:
        args.out.write_text(json.dumps(report, indent=2))
    return report


def _medians(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for tree, rounds in runs.items():
        names = {n for r in rounds for n in r["threads"]}
        out[tree] = {n: {k: statistics.median(r["threads"].get(n, {}).get(k, 0.0) for r in rounds)
                         for k in ("cpu_ms_s", "wakeups_s")} for n in sorted(names)}  # fmt: skip
    return out


def _markdown(medians: dict[str, dict[str, dict[str, float]]]) -> str:
    trees = list(medians)
    names = sorted({n for t in trees for n in medians[t]})
    head = " | ".join(f"{t}: CPU ms/s, wake-ups/s" for t in trees)
    lines = [f"| thread | {head} |", "|---|" + "---|" * len(trees)]
    for n in names:
        cells = " | ".join(
            f"{medians[t].get(n, {}).get('cpu_ms_s', 0.0):.2f}, "
            f"{medians[t].get(n, {}).get('wakeups_s', 0.0):.1f}"
            for t in trees
        )
        lines.append(f"| {n} | {cells} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
