"""The single-client timeline against a real one-worker Sift server of this checkout, so
its stamps, their matching to each request and its report cannot rot."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.unit.test_load_smoke import REPO_ROOT, _write_beir


def test_every_request_is_split_into_its_stages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    from benchmarks.load import timeline

    monkeypatch.setattr(sys, "argv", [
        "timeline", "--tree", str(REPO_ROOT), "--collection", str(_write_beir(tmp_path)),
        "--queries", "5",
    ])  # fmt: skip
    timeline.main()

    out = capsys.readouterr().out
    for kind in ("short", "prefix", "no-op"):
        assert f"{kind} (5 requests)" in out  # every request matched to its server events
    assert "engine" in out and "hand-off" in out and "inline share" in out
    assert "head write preempted" in out
