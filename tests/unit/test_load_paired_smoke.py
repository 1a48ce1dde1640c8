"""The paired load benchmark against a real one-worker Sift server of this checkout, so
its servers, interleaved latency loop, wrk rounds and report cannot rot."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.unit.test_load_smoke import REPO_ROOT, _write_beir


def test_a_tree_is_timed_per_query_kind_and_loaded_per_level(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    from benchmarks.load import paired

    out = tmp_path / "paired.json"
    monkeypatch.setattr(sys, "argv", [
        "paired", "--tree", f"here={REPO_ROOT}", "--collection", str(_write_beir(tmp_path)),
        "--queries", "5", "--workers", "1", "--rounds", "1", "--duration", "1",
        "--connections", "1,2", "--out", str(out),
    ])  # fmt: skip
    paired.main()

    payload = json.loads(out.read_text())
    latency = payload["latency_ms"]
    assert set(latency) == {"full", "short", "prefix", "no-op"}
    assert all(len(by["here"]) == 5 and min(by["here"]) > 0 for by in latency.values())
    levels = {(r["endpoint"], r["connections"]): r["rps"] for r in payload["throughput"]}
    assert set(levels) == {(e, c) for e in ("search", "noop") for c in (1, 2)}
    assert all(rps > 0 for rps in levels.values())
    if sys.platform.startswith("linux"):  # the server's CPU per request, from /proc
        assert all(r["cpu_us"] > 0 for r in payload["throughput"])
        assert set(payload["latency_cpu_us"]) == set(latency)
    assert "| search c=1 |" in capsys.readouterr().out
