import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sift.config import load_config
from sift.http.access_log import AccessLogHandler
from sift.insights.searches import Analytics
from sift.storage.database import Database
from sift.tasks import priority

linux = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread nice is Linux's"
)


def nice_of(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


@pytest.fixture
def lowered() -> Iterator[None]:
    priority.configure(5)
    yield
    priority.configure(0)


def run_lowering() -> tuple[bool, int]:
    seen: list[tuple[bool, int]] = []

    def body() -> None:
        seen.append((priority.lower_this_thread(), nice_of(threading.get_native_id())))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    return seen[0]


@linux
def test_a_background_thread_runs_lower_and_the_caller_keeps_its_priority(lowered) -> None:
    before = nice_of(threading.get_native_id())
    assert run_lowering() == (True, min(priority.NICE_MAX, before + 5))
    assert nice_of(threading.get_native_id()) == before


@linux
def test_lowering_stops_at_the_lowest_priority() -> None:
    priority.configure(40)
    try:
        assert run_lowering() == (True, priority.NICE_MAX)
    finally:
        priority.configure(0)


def test_zero_leaves_threads_as_they_are() -> None:
    priority.configure(0)
    before = nice_of(threading.get_native_id())
    assert run_lowering() == (False, before)


def wait_for_nice(tid: int | None, expected: int) -> int:
    assert tid is not None
    deadline = time.monotonic() + 5
    while nice_of(tid) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return nice_of(tid)


@linux
def test_the_analytics_and_access_log_writers_lower_themselves(lowered, tmp_path: Path) -> None:
    expected = min(priority.NICE_MAX, nice_of(threading.get_native_id()) + 5)
    analytics = Analytics(Database(f"sqlite:///{tmp_path / 'a.db'}"), retention_days=30)
    analytics.start()
    handler = AccessLogHandler()
    handler.start()
    try:
        assert analytics._thread is not None and handler._writer is not None
        assert wait_for_nice(analytics._thread.native_id, expected) == expected
        assert wait_for_nice(handler._writer.native_id, expected) == expected
    finally:
        analytics.stop()
        handler.close()


def test_the_setting_is_a_nice_value(tmp_path: Path) -> None:
    none = str(tmp_path / "none.toml")
    assert load_config({"config_file": none}, environ={}).background_nice == 10
    assert (
        load_config({"config_file": none}, environ={"SIFT_BACKGROUND_NICE": "0"}).background_nice
        == 0
    )
    for bad in ("-1", "20"):
        with pytest.raises(ValueError):
            load_config({"config_file": none}, environ={"SIFT_BACKGROUND_NICE": bad})
