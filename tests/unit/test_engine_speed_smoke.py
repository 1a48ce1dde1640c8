"""The engine speed benchmark's smoke mode: a real Sift server, a few hundred documents,
no Typesense, seconds. Checks the run completes and reports every figure it promises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.engine_speed.cli import main
from benchmarks.engine_speed.corpus import product_corpus


def test_queries_are_seeded_and_short() -> None:
    first = product_corpus(50, 40, seed=7)
    assert first.queries == product_corpus(50, 40, seed=7).queries
    assert all(1 <= len(q.split()) <= 4 for q in first.queries)


def test_smoke_run_writes_results(tmp_path: Path) -> None:
    report = main(["--smoke", "--out-dir", str(tmp_path)])
    products = report["corpora"]["products"]
    assert products["documents"] == 300
    for key in ("sift_inprocess", "sift_engine", "sift_e2e"):
        assert set(products["latency_ms"][key]) == {"p50", "p95", "p99"}
    assert "ts_engine" not in products["latency_ms"]  # smoke runs skip Typesense
    assert products["median_hits"]["sift"] > 0
    assert products["sift_index"]["docs_per_s"] > 0
    assert products["sift_index"]["disk_mib"] > 0
    written = sorted(p.suffix for p in tmp_path.iterdir())
    assert written == [".json", ".md"]
    saved = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert saved["smoke"] is True


def test_profile_latency_mode_reports_percentiles(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.engine_speed import profile

    profile.main(["--docs", "300", "--queries", "10", "--latency", "--gap-ms", "1",
                  "--flush-mib", "1"])
    out = capsys.readouterr().out
    assert out.startswith("products: 10 queries, gap 1 ms, flush 1 MiB: p50 ") and "p99" in out


KINDS = ["full", "full cpu", "short", "short cpu", "prefix", "prefix cpu"]


def test_paired_in_process_run_times_every_kind_per_tree(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.engine_speed import paired

    from tests.unit.test_load_smoke import REPO_ROOT, _write_beir

    paired.main(["--tree", f"a={REPO_ROOT}", "--tree", f"b={REPO_ROOT}", "--rounds", "2",
                 "--queries", "5", "--collection", str(_write_beir(tmp_path))])
    out = capsys.readouterr().out
    assert "| kind | a p50 µs | b p50 µs | b / a |" in out
    rows = [line.split("|") for line in out.splitlines() if line.startswith("| ")][1:]
    # Each kind's wall time, then its searching thread's CPU time.
    assert [r[1].strip() for r in rows] == KINDS
    assert all(float(r[2].replace(",", "")) > 0 and float(r[4]) > 0 for r in rows)
    assert "2 rounds" in out


def test_first_sight_searches_find_the_word_caches_empty() -> None:
    from benchmarks.engine_speed.paired import forget_queries

    from sift.engine.index import SearchIndex
    from sift.engine.query import SearchParams
    from sift.engine.settings import with_defaults
    from sift.engine.store import LRU

    index = SearchIndex(with_defaults({}), "id")
    index.upsert([("1", {"id": "1", "text": "gardens of roses"}),
                  ("2", {"id": "2", "text": "a rose garden"})])
    index.search(SearchParams.from_dict({"q": "gardn ros"}))
    snapshot = index.view.snapshot
    caches = [v for v in vars(snapshot)["_cache"].values() if isinstance(v, LRU)]
    assert any(c._items for c in caches)  # the search filled some
    forget_queries(snapshot)
    assert not any(c._items for c in [*caches, vars(snapshot)["_lru"]])


def test_paired_first_sight_run_reports_every_kind(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.engine_speed import paired

    from tests.unit.test_load_smoke import REPO_ROOT, _write_beir

    paired.main(["--tree", f"a={REPO_ROOT}", "--tree", f"b={REPO_ROOT}", "--rounds", "1",
                 "--queries", "5", "--first-sight", "--collection", str(_write_beir(tmp_path))])
    rows = [line.split("|") for line in capsys.readouterr().out.splitlines()
            if line.startswith("| ")][1:]
    # Each kind's wall time, then its searching thread's CPU time.
    assert [r[1].strip() for r in rows] == KINDS


def test_fingerprint_tells_tie_order_from_other_differences() -> None:
    from benchmarks.engine_speed.fingerprint import PAGE, verdict

    a = [("x", 0.9), ("y", 0.5), ("z", 0.5), 3]
    assert verdict(a, list(a)) == "identical"
    assert verdict(a, [("x", 0.9), ("z", 0.5), ("y", 0.5), 3]) == "tie order"
    assert verdict(a, [("y", 0.9), ("x", 0.5), ("z", 0.5), 3]) == "different"
    assert verdict(a, [("x", 0.9), ("y", 0.5), ("w", 0.5), 3]) == "different"  # not full
    full = [(f"d{i}", 1.0 if i < PAGE - 2 else 0.5) for i in range(PAGE)]
    cut = [*full[:-1], ("other", 0.5)]
    assert verdict([*full, 40], [*cut, 40]) == "tie at page end"
    assert verdict([*full, 40], [*cut, 41]) == "different"

