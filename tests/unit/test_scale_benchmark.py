"""The scale harness: the typeahead mix, percentiles, medians, the table, the lockstep."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from benchmarks.scale import lockstep
from benchmarks.scale.cli import COLUMNS, table
from benchmarks.scale.measure import percentile
from benchmarks.scale.queries import FACETS, typeahead

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_typeahead_mix_is_every_keystroke_of_seeded_queries() -> None:
    bodies = typeahead(60, seed=3)
    assert bodies == typeahead(60, seed=3) and bodies != typeahead(60, seed=4)
    assert len(bodies) == 60
    first = bodies[0]["q"]
    assert len(first) == 1  # a visitor starts with one letter
    for body in bodies:
        assert body["facets"] == FACETS and body["filter"] and body["showPerformanceDetails"]
        assert not body["q"].endswith(" ")
    # Consecutive bodies of one visitor extend the previous query and keep its filter.
    for before, after in itertools.pairwise(bodies):
        if after["q"].startswith(before["q"]) and len(after["q"]) > len(before["q"]):
            assert after["filter"] == before["filter"]


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0


def test_a_missing_figure_shows_as_a_dash() -> None:
    row: dict[str, float | None] = {key: 1.0 for key, _, _ in COLUMNS}
    row["rebuild_s"] = None
    lines = table([row]).splitlines()
    assert len(lines) == 3 and " - |" in lines[2]


def test_lockstep_sends_the_mix_to_both_trees_and_compares_their_answers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two workers on this tree: the first builds the index and writes the cache, the
    second loads it; the same code answers the same, so no response differs."""
    cache = tmp_path / "index.pickle"
    lockstep.main(["--tree", f"a={REPO_ROOT}", "--tree", f"b={REPO_ROOT}", "--docs", "300",
                   "--queries", "6", "--index-cache", str(cache)])
    out = capsys.readouterr().out
    assert cache.exists()
    assert "products, 300 docs, 6 searches x 1 rounds" in out
    assert "responses differing from a: 0" in out
    assert "b: engine p50" in out


@pytest.mark.parametrize("lazy", [False, True])
def test_first_use_reports_the_views_and_the_slowest_searches(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], lazy: bool) -> None:
    """On the lockstep's cached index: built ahead unless --lazy, then the mix once."""
    from benchmarks.scale import first_use
    from benchmarks.scale.products_index import products_index

    cache = tmp_path / "index.pickle"
    products_index(300, 42, cache)  # the lockstep's cache, as it writes it
    first_use.main(["--index-cache", str(cache), "--searches", "8", *(["--lazy"] * lazy)])
    out = capsys.readouterr().out
    assert "index.pickle: 300 documents" in out
    assert ("left to the searches" in out) == lazy
    assert ("warm_fields: " in out) != lazy
    assert "after the 8 searches of the mix" in out
    assert len([line for line in out.splitlines() if line.startswith("  ") and "#" in line]) == 6


def test_kernels_reruns_each_kernel_of_the_slowest_searches(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each captured call is listed with its rerun's median, nested under its step, and
    the engine's functions are given back unwrapped."""
    from benchmarks.scale import kernels
    from benchmarks.scale.products_index import products_index

    import sift.engine.ranking as ranking

    cache = tmp_path / "index.pickle"
    products_index(300, 42, cache)
    before = ranking.saturated_sum
    kernels.main(["--index-cache", str(cache), "--queries", "6", "--slowest", "2",
                  "--repeat", "3"])
    out = capsys.readouterr().out
    assert "median of 3 reruns" in out
    assert out.count("(median of 3)") == 2  # the two slowest searches
    # The common ranking's kernels are one call (relevance_ranked where the relevance
    # rule alone ranks, else relevance_raw); others' saturated_sum.
    assert "\n  rank " in out
    assert any(f"\n      {name} " in out
               for name in ("relevance_ranked", "relevance_raw", "saturated_sum"))
    assert ranking.saturated_sum is before


def test_lockstep_workers_configure_malloc_as_the_server_unless_told_otherwise(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each worker reports its minor page faults per search; --glibc-defaults leaves one
    worker's malloc alone and --env sets a variable for one worker only: a worker whose
    environment breaks its start shows that only it got the variable."""
    cache = tmp_path / "index.pickle"
    lockstep.main(["--tree", f"a={REPO_ROOT}", "--tree", f"b={REPO_ROOT}", "--docs", "300",
                   "--queries", "4", "--index-cache", str(cache), "--glibc-defaults", "b",
                   "--env", "b:MALLOC_TOP_PAD_=1048576"])
    out = capsys.readouterr().out
    assert "minor page faults per search: a median" in out and ", b median" in out
    assert "responses differing from a: 0" in out
    with pytest.raises(Exception):  # noqa: B017 - b's worker dies before its first line
        lockstep.main(["--tree", f"a={REPO_ROOT}", "--tree", f"b={REPO_ROOT}", "--docs",
                       "300", "--queries", "4", "--index-cache", str(cache),
                       "--env", "b:PYTHONHOME=/nonexistent"])
