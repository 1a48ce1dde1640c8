"""The sync benchmark's per-stage breakdown (benchmarks/sync/stages.py) and the server's
stage trace it reads (sift/tasks/stagetrace.py): each probe is matched to the source
transaction that carried its key and to the batch that ran that commit's tasks, and its
stages add up to its lag."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.sync.stages import STAGES, breakdown

from sift.tasks import stagetrace


@pytest.fixture
def trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "stages.jsonl"
    monkeypatch.setattr(stagetrace, "_path", str(path))
    monkeypatch.setattr(stagetrace, "_out", None)
    return path


def test_stages_add_up_to_each_probes_lag(trace: Path) -> None:
    assert stagetrace.enabled()
    # Key 7 is in two transactions; the probe's is the one decoded nearest its commit.
    for at, keys, uid in ((100.0, ["7", "8"], 1), (101.0, ["7"], 2)):
        stagetrace.write({"e": "sync", "txns": [{"at": at, "got": at + 0.01,
                          "took": at + 0.02, "keys": keys}], "closed": at + 0.05,
                          "locked": at + 0.06, "done": at + 0.08, "tasks": [uid]})  # fmt: skip
        stagetrace.write({"e": "batch", "tasks": [uid], "picked": at + 0.1,
                          "applied": at + 0.2, "committed": at + 0.25,
                          "published": at + 0.26})  # fmt: skip
    probes = [{"id": 7, "committed": 101.0, "sent": 101.3, "seen": 101.4, "engine_ms": 5,
               "queries": 1}]  # fmt: skip
    result = breakdown(trace, probes)
    assert result["matched"] == 1
    stages = [result["stages"][name]["p50_ms"] for name, _, _ in STAGES]
    assert stages == pytest.approx([10, 10, 30, 10, 20, 20, 100, 50, 10, 40, 100])
    assert sum(stages) == pytest.approx(400)  # seen - committed


def test_a_probe_outside_the_trace_is_not_matched(trace: Path) -> None:
    stagetrace.write({"e": "sync", "txns": [{"at": 1.0, "got": 1.0, "took": 1.0,
                      "keys": [1]}], "closed": 1.0, "locked": 1.0, "done": 1.0,
                      "tasks": [9]})  # fmt: skip
    probes = [{"id": 2, "committed": 1.0, "sent": 1.0, "seen": 1.0},  # another key
              {"id": 1, "committed": 1.0, "sent": 1.0, "seen": 1.0}]  # its batch not traced
    assert breakdown(trace, probes)["matched"] == 0
