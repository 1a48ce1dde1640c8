"""The single-client timeline against a real one-worker Sift server of this checkout, so
its stamps, their matching to each request and its report cannot rot."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.unit.test_load_smoke import REPO_ROOT, _write_beir


def _timeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              capsys: pytest.CaptureFixture[str], *options: str) -> str:
    """What `python -m benchmarks.load.timeline` prints for five queries of each kind."""
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    from benchmarks.load import timeline

    monkeypatch.setattr(sys, "argv", [
        "timeline", "--tree", str(REPO_ROOT), "--collection", str(_write_beir(tmp_path)),
        "--queries", "5", *options,
    ])  # fmt: skip
    timeline.main()
    return capsys.readouterr().out


def test_every_request_is_split_into_its_stages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = _timeline(tmp_path, monkeypatch, capsys)
    for kind in ("short", "prefix", "no-op"):
        assert f"{kind} (5 requests)" in out  # every request matched to its server events
    assert "engine" in out and "hand-off" in out and "inline share" in out
    assert "head write preempted" in out
    assert "engine cpu" in out and "engine faults" in out
    assert "repeated" not in out  # only with --repeat


def test_repeat_reports_each_search_back_to_back_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = _timeline(tmp_path, monkeypatch, capsys, "--client", "raw", "--repeat")
    for kind in ("short", "prefix"):
        section = out.split(f"{kind} (5 requests)")[1].split("requests)")[0]
        # Not "engine cpu, repeated, inline": that one comes only when placements differ.
        repeated = [ln for ln in section.splitlines()
                    if ln.split()[:3] == ["engine", "cpu,", "repeated"]]
        assert len(repeated) == 1 and float(repeated[0].split()[3]) > 0


def test_searches_inline_and_on_a_thread_are_reported_apart() -> None:
    from benchmarks.load.timeline import PLACED_STAGES, by_placement

    def row(inline: float, seconds: float) -> dict[str, float]:
        return {**dict.fromkeys(PLACED_STAGES, seconds), "inline share": inline}

    lines: list[str] = []
    by_placement([row(1.0, 0.001), row(1.0, 0.003), row(0.0, 0.005)], lines.append)
    assert lines[0].split() == ["total,", "inline", "2000", "on", "a", "thread:", "5000"]
    assert len(lines) == len(PLACED_STAGES)
    lines.clear()
    plain = [{k: v for k, v in row(flag, 0.001).items() if k != "engine cpu, repeated"}
             for flag in (1.0, 0.0)]  # a run without --repeat
    by_placement(plain, lines.append)
    assert len(lines) == len(PLACED_STAGES) - 1 and "repeated" not in "".join(lines)
    lines.clear()
    by_placement([row(1.0, 0.001)], lines.append)  # all inline: nothing to compare
    assert lines == []


def test_an_idle_gap_before_each_request_is_said_and_every_request_still_matched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = _timeline(tmp_path, monkeypatch, capsys, "--client", "raw", "--gap-us", "2000")
    assert "an idle gap of 2000 µs before each request" in out
    for kind in ("short", "prefix", "no-op"):
        assert f"{kind} (5 requests)" in out
    client_first = [ln for ln in out.splitlines() if ln.split()[:3] == ["client", "->", "recv"]]
    # The gap is before each request's start, not inside its time.
    assert client_first and all(float(ln.split()[3]) < 2000 for ln in client_first)
