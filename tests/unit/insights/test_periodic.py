"""The insights refreshers' timer: a failed round is logged and the next one still runs."""

from __future__ import annotations

import threading

from sift.insights.periodic import PeriodicJob


class _Flaky(PeriodicJob):
    name = "test-flaky"
    interval = 0.01

    def __init__(self) -> None:
        super().__init__()
        self.rounds = 0
        self.second = threading.Event()

    def run_once(self) -> None:
        self.rounds += 1
        if self.rounds == 1:
            raise RuntimeError("first round fails")
        self.second.set()


def test_a_failed_round_is_logged_and_the_next_runs(caplog) -> None:
    job = _Flaky()
    job.start()
    job.start()  # idempotent: still one thread
    try:
        assert job.second.wait(5)
    finally:
        job.stop()
    assert job.rounds >= 2
    assert any(r.exc_info and "first round fails" in str(r.exc_info[1]) for r in caplog.records)


def test_stop_ends_the_thread_and_start_runs_again() -> None:
    job = _Flaky()
    job.start()
    thread = job._thread
    job.stop()
    assert thread is not None and not thread.is_alive()
    job.stop()  # idempotent
    job.second.clear()
    job.rounds = 1  # the next round succeeds
    job.start()
    try:
        assert job.second.wait(5)
    finally:
        job.stop()
