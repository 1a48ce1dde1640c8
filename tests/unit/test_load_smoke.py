"""The speed benchmark's smoke mode against a real one-worker Sift server, so the load
harness (query derivation, server start-up, latency loop, generator, report) cannot rot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO_ROOT = Path(__file__).resolve().parents[2]
WORDS = ["protein", "cell", "gene", "tumour", "immune", "signal"]
WORDS += ["virus", "dose", "trial", "brain", "heart", "liver"]


def _write_beir(root: Path, n_docs: int = 30) -> Path:
    folder = root / "tiny"
    (folder / "qrels").mkdir(parents=True)
    corpus, queries, qrels = [], [], ["query-id\tcorpus-id\tscore"]
    for n in range(n_docs):
        words = [WORDS[(n + i) % len(WORDS)] for i in range(4)]
        corpus.append({"_id": f"d{n}", "title": " ".join(words[:2]), "text": " ".join(words)})
        queries.append({"_id": f"q{n}", "text": f"does {words[0]} affect {words[2]} levels"})
        qrels.append(f"q{n}\td{n}\t1")
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    (folder / "qrels" / "test.tsv").write_text("\n".join(qrels) + "\n")
    return folder


@pytest.mark.parametrize("generator", ["python", "wrk"])
def test_smoke_measures_latency_and_load_of_sift_and_an_in_process_engine(
    generator: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if generator == "wrk" and shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    from benchmarks.cli import main

    out = tmp_path / "results"
    result = CliRunner().invoke(
        main,
        [
            "load", "--smoke",
            "--collection", str(_write_beir(tmp_path)),
            "--in-process", "fts5",
            "--generator", generator,
            "--output-dir", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    [report] = out.glob("load-*-smoke.json")
    payload = json.loads(report.read_text())
    rows = {(r["engine"], r["kind"]): r for r in payload["latency"]}
    kinds = ("full", "short", "prefix")
    assert set(rows) == {(e, k) for e in ("fts5", "sift") for k in kinds} | {("sift", "no-op")}
    for (engine, kind), row in rows.items():
        assert 0 < row["end_to_end_ms"]["p50"] <= row["end_to_end_ms"]["p99"]
        if kind == "no-op":
            assert row["engine_ms"] is None
            continue
        assert row["mean_hits"] > 0
        # Only the server reports its own time; it cannot exceed what the client saw.
        if engine == "sift":
            assert row["engine_ms"]["p50"] <= row["end_to_end_ms"]["p50"]
        else:
            assert row["engine_ms"] is None
    load = {(r["endpoint"], r["mix"], r["connections"]): r for r in payload["load"]}
    runs = {("noop", ""), ("search", "all"), ("search", "typeahead")}
    assert set(load) == {(e, m, c) for e, m in runs for c in (1, 4)}
    for row in load.values():
        assert row["generator"] == generator
        assert row["errors"] == 0
        assert row["rps"] > 0
    assert {(r["mix"], r["connections"]) for r in payload["ratios"]} == {
        (m, c) for m in ("all", "typeahead") for c in (1, 4)
    }
    assert all(r["search_over_noop"] > 0 for r in payload["ratios"])
    assert (out / report.name.replace(".json", ".md")).read_text().startswith("# Speed")
    assert (out / report.name.replace(".json", ".png")).stat().st_size > 0


def test_derived_queries_are_reproducible_and_shaped_like_their_kind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    from benchmarks.load.queries import query_sets

    source = ["Vitamin D deficiency raises fracture risk.", "ALDH1 expression in breast cancer"]
    sets = query_sets(source, 40, seed=3)
    assert sets == query_sets(source, 40, seed=3)
    assert sets["full"] == source
    assert all(1 <= len(q.split()) <= 3 for q in sets["short"])
    assert len(sets["prefix"]) == 40
    assert all(len(q) >= 2 and not q.endswith(" ") for q in sets["prefix"])
    # Prefixes come as typing sessions: each keystroke extends the previous request.
    assert sets["prefix"][1].startswith(sets["prefix"][0])


def test_percentiles_are_observed_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    from benchmarks.load.stats import percentile

    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 99) == 99.0
    assert percentile([3.0], 95) == 3.0
