"""`sift serve` keeps each worker to a core of its own where the operator asks for it
(sift/tasks/cores.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sift.tasks import cores as worker_cores

SRC = Path(worker_cores.__file__).resolve().parents[2]
linux_only = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux only")


@pytest.mark.parametrize(("workers", "cores", "expected"), [
    (2, {0, 1}, "0,1"), (4, {2, 3}, "2,3"), (3, {0, 1}, "0,1"), (1, {0}, "off"),
    (1, {0, 1}, "off"), (2, {0, 1, 2, 3}, "off")])  # fmt: skip
def test_pinned_only_with_a_worker_per_core(
    monkeypatch: pytest.MonkeyPatch, workers: int, cores: set[int], expected: str
) -> None:
    monkeypatch.setenv(worker_cores.CORES_ENV, worker_cores.AUTO)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: cores)
    assert worker_cores.choose(workers) == expected
    assert os.environ[worker_cores.CORES_ENV] == expected  # what the workers inherit


def test_nothing_is_pinned_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(worker_cores.CORES_ENV, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    assert worker_cores.choose(2) == "off"
    assert os.environ[worker_cores.CORES_ENV] == "off"  # what the workers inherit


@pytest.mark.parametrize("chosen", ["off", "1"])
def test_an_operators_choice_stays(monkeypatch: pytest.MonkeyPatch, chosen: str) -> None:
    monkeypatch.setenv(worker_cores.CORES_ENV, chosen)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    assert worker_cores.choose(2) == chosen


@linux_only
def test_each_slot_has_one_holder_and_a_freed_one_is_taken_again() -> None:
    name = f"sift-test-slots-{os.getpid()}"
    first = worker_cores.claim(name, 2)
    second = worker_cores.claim(name, 2)
    assert first is not None and second is not None
    assert (first[1], second[1]) == (0, 1)
    assert worker_cores.claim(name, 2) is None  # both held
    first[0].close()  # as when that worker's process ends
    again = worker_cores.claim(name, 2)
    assert again is not None and again[1] == 0
    again[0].close()
    second[0].close()


PINNED_WORKER = textwrap.dedent("""
    import json, os, threading, time
    from sift.tasks import cores as worker_cores
    started = threading.Event()
    before = threading.Thread(target=lambda: (started.set(), time.sleep(2)), daemon=True)
    before.start()  # as uvicorn's threads are, before the app
    started.wait()
    core = worker_cores.pin(2)
    after = threading.Thread(target=lambda: time.sleep(2), daemon=True)
    after.start()
    spread = threading.Event()
    bulk = threading.Thread(target=lambda: (worker_cores.unpin_thread(), spread.set(),
                                            time.sleep(2)), daemon=True)
    bulk.start()  # as the task worker's thread is
    spread.wait()
    print(json.dumps([core, *(sorted(os.sched_getaffinity(t.native_id))
                               for t in (threading.main_thread(), before, after, bulk))]))
""")


def _worker(cores: str) -> list:
    env = {**os.environ, "PYTHONPATH": str(SRC), worker_cores.CORES_ENV: cores}
    out = subprocess.run(
        [sys.executable, "-c", PINNED_WORKER],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return json.loads(out)


@linux_only
def test_a_worker_keeps_every_thread_but_its_bulk_work_to_its_core() -> None:
    mine = sorted(os.sched_getaffinity(0))
    core = mine[-1]
    assert _worker(str(core)) == [core, [core], [core], [core], mine]


@linux_only
def test_off_pins_nothing() -> None:
    mine = sorted(os.sched_getaffinity(0))
    assert _worker("off") == [None, mine, mine, mine, mine]
