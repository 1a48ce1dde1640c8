"""`python -m benchmarks.events.writer`: one flush timed beside a busy thread, every event
written, its figures reported."""

from __future__ import annotations

import json

import pytest
from benchmarks.events import writer


def test_the_writer_benchmark_times_whole_flushes(capsys: pytest.CaptureFixture[str]) -> None:
    writer.main(["--rows", "300", "--rounds", "3"])
    report = json.loads(capsys.readouterr().out)
    assert report["database"] == "sqlite" and report["rows"] == 300 and report["busy_thread"]
    assert len(report["wall_ms"]) == len(report["cpu_ms"]) == len(report["waits"]) == 3
    timed = zip(report["wall_ms"], report["cpu_ms"], strict=True)
    assert all(wall > 0 and cpu > 0 for wall, cpu in timed)
    assert all(isinstance(waits, int) and waits >= 0 for waits in report["waits"])


def test_a_flush_that_writes_fewer_events_than_queued_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(writer.Analytics, "flush", lambda self, wait=None: 0)
    with pytest.raises(RuntimeError, match="0 of 10 events written"):
        writer.run(None, rows=10, rounds=1, busy=False)
