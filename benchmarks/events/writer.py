"""`python -m benchmarks.events.writer`: the click-event writer in process, beside a busy
Python thread (what the server's event loop is while events arrive).

Queues `--rows` click events, then times `Analytics.flush()` (one batch, one transaction):
its wall time and the writing thread's CPU time, while another thread spins in Python.
Wall far above CPU is time the writer waited for the GIL: each release of the GIL by the
driver (around a SQLite step, a system call) hands it to the spinning thread, and taking
it back waits up to a switch interval (the server sets 1 ms, `sift.server`). Run it with
another tree's `src` first on `PYTHONPATH` to measure that tree's writer; the module uses
only `Analytics`, `Database` and `InsightEvent`, which every tree since issue #17 has.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from sift.insights import Analytics
from sift.storage import Database
from sift.storage.analytics import InsightEvent
from sift.storage.database import utcnow

SWITCH_INTERVAL_S = 0.001  # as `sift serve` sets it


def _events(rows: int) -> list[InsightEvent]:
    now = utcnow()
    return [
        InsightEvent(now, "click", "Clicked", "products", f"u{i % 200}", None, str(i), None, i % 20)
        for i in range(rows)
    ]


def _spin(stop: threading.Event) -> None:
    n = 0
    while not stop.is_set():
        n += 1


def one_flush(analytics: Analytics, rows: int, busy: bool) -> tuple[float, float, int]:
    """(wall ms, writer CPU ms, the writer's waits) of one flush of `rows` events: a wait is
    a voluntary context switch of the writing thread (the GIL, a lock, an fsync), a count
    the machine's load does not change, unlike the wall time."""
    for event in _events(rows):
        analytics.record_event(event)
    stop = threading.Event()
    spinner = threading.Thread(target=_spin, args=(stop,), daemon=True)
    if busy:
        spinner.start()
        time.sleep(0.01)
    waits = resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw
    started, cpu = time.perf_counter(), time.thread_time()
    written = analytics.flush()
    wall, cpu = time.perf_counter() - started, time.thread_time() - cpu
    waits = resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw - waits
    stop.set()
    if busy:
        spinner.join()
    if written != rows:
        raise RuntimeError(f"{written} of {rows} events written")
    return wall * 1000, cpu * 1000, waits


def run(url: str | None, rows: int, rounds: int, busy: bool) -> dict[str, object]:
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    with tempfile.TemporaryDirectory(prefix="bench-writer-") as tmp:
        db = Database(url or f"sqlite:///{Path(tmp) / 'sift.db'}")
        db.migrate()
        analytics = Analytics(db, retention_days=30)
        one_flush(analytics, rows, busy=False)  # warm-up: the hashing key, the statements
        walls, cpus, waits = [], [], []
        for _ in range(rounds):
            wall, cpu, waited = one_flush(analytics, rows, busy)
            walls.append(wall)
            cpus.append(cpu)
            waits.append(waited)
        db.dispose()
    return {
        "database": "sqlite" if url is None else url.split(":", 1)[0],
        "rows": rows,
        "busy_thread": busy,
        "wall_ms": walls,
        "cpu_ms": cpus,
        "waits": waits,
        "wall_ms_median": statistics.median(walls),
        "cpu_ms_median": statistics.median(cpus),
        "waits_median": statistics.median(waits),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.events.writer", description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000, help="events per flush")
    parser.add_argument("--rounds", type=int, default=7, help="flushes timed (medians)")
    parser.add_argument("--url", help="a database URL (default: a new SQLite file)")
    parser.add_argument("--idle", action="store_true", help="no busy thread beside the writer")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.url, args.rows, args.rounds, not args.idle)))


if __name__ == "__main__":
    main()
