"""benchmarks/idle_cost.py's reading of /proc and its summary, without a server."""

from __future__ import annotations

import os
import threading
import time

from benchmarks import idle_cost


def _nap(stop: threading.Event) -> None:
    while not stop.wait(0.005):  # a wake-up every 5 ms
        pass


def test_a_sample_counts_each_threads_cpu_and_wakeups() -> None:
    stop = threading.Event()
    sleeper = threading.Thread(target=_nap, args=(stop,))
    sleeper.start()
    before = idle_cost.sample(os.getpid())
    end = time.thread_time() + 0.05
    while time.thread_time() < end:  # this thread spends 50 ms of CPU
        pass
    after = idle_cost.sample(os.getpid())
    stop.set()
    sleeper.join()
    me, other = threading.get_native_id(), sleeper.native_id
    assert other is not None
    assert after[me][0] - before[me][0] >= 40_000_000  # ns of CPU
    assert after[other][1] - before[other][1] >= 3  # its sleeps that ended: wake-ups


def test_medians_and_the_table() -> None:
    runs = {
        "base": [{"threads": {"sift-worker": {"cpu_ms_s": v, "wakeups_s": 2.0}}}
                 for v in (1, 3, 2)],
        "this": [{"threads": {"sift-worker": {"cpu_ms_s": 0.1, "wakeups_s": 2.0}}}] * 3,
    }
    medians = idle_cost._medians(runs)
    assert medians["base"]["sift-worker"] == {"cpu_ms_s": 2, "wakeups_s": 2.0}
    table = idle_cost._markdown(medians)
    assert "| sift-worker | 2.00, 2.0 | 0.10, 2.0 |" in table
