"""sift/http/granian_server.py's stop signals, in process."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator

import pytest

from sift.http import granian_server


@pytest.fixture
def handlers() -> Iterator[None]:
    saved = {stop: signal.getsignal(stop) for stop in (signal.SIGTERM, signal.SIGINT)}
    yield
    for stop, handler in saved.items():
        signal.signal(stop, handler)


def test_a_stopping_worker_ignores_the_parents_repeated_signal(
    handlers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(granian_server.PARENT_ENV, "1")
    granian_server.ignore_further_stops()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_outside_a_granian_worker_the_handlers_stay(
    handlers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(granian_server.PARENT_ENV, raising=False)
    before = signal.getsignal(signal.SIGTERM)
    granian_server.ignore_further_stops()
    assert signal.getsignal(signal.SIGTERM) is before
    # ... nor from another thread (the app's lifespan in tests), where signal.signal raises.
    monkeypatch.setenv(granian_server.PARENT_ENV, "1")
    done = threading.Thread(target=granian_server.ignore_further_stops)
    done.start()
    done.join()
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_parent_repeats_its_stop_to_workers_still_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Worker:
        def __init__(self, alive: bool) -> None:
            self.alive, self.stops = alive, 0

        def is_alive(self) -> bool:
            return self.alive

        def terminate(self) -> None:
            self.stops += 1

    monkeypatch.setattr(granian_server, "STOP_REPEAT_S", 0.01)
    running, gone = Worker(True), Worker(False)
    stopped = threading.Event()
    repeat = threading.Thread(target=granian_server._repeat_stop, args=([running, gone], stopped))
    repeat.start()
    deadline = time.monotonic() + 10
    while running.stops < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    stopped.set()
    repeat.join(5)
    assert running.stops >= 3
    assert not repeat.is_alive()
    assert gone.stops == 0
