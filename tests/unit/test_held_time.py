"""The held clock: wall time less the thread's waits for a core."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from sift.http import held_time
from sift.http.held_time import held_clock

LINUX_SCHEDSTAT = Path(held_time.SCHEDSTAT).exists()


def test_blocking_counts_as_held() -> None:
    started = held_clock()
    time.sleep(0.02)  # as a search waiting on a lock: the loop is held all along
    assert held_clock() - started >= 0.019


@pytest.mark.skipif(not LINUX_SCHEDSTAT, reason="no /proc/thread-self/schedstat")
def test_each_thread_reads_its_own_delay() -> None:
    seen: list[int | None] = []

    def read() -> None:
        held_clock()
        seen.append(held_time._local.delay.fd)

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
        thread.join()
    held_clock()
    assert None not in seen
    assert held_time._local.delay.fd is not None


def test_without_scheduler_statistics_it_is_the_wall_clock(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(held_time, "SCHEDSTAT", str(tmp_path / "missing"))
    monkeypatch.setattr(held_time, "_local", threading.local())
    started, wall = held_clock(), time.perf_counter()
    time.sleep(0.01)
    assert held_clock() - started == pytest.approx(time.perf_counter() - wall, abs=0.002)
