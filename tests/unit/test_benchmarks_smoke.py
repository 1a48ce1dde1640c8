"""The relevance benchmark's smoke mode, run in-process on a synthetic BEIR collection."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("pytrec_eval", reason="bench extra not installed")
pytest.importorskip("bm25s", reason="bench extra not installed")
pytest.importorskip("tantivy", reason="bench extra not installed")

REPO_ROOT = Path(__file__).resolve().parents[2]
SYLLABLES = ["ka", "lo", "mi", "ne", "po", "ru", "si", "ta", "vu", "ze", "bo", "di"]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(4))


def _write_beir(root: Path, n_docs: int = 40) -> Path:
    """Each doc gets a title of three made-up words no other doc uses, and a body drawn
    from a small shared vocabulary; each query is a doc's title, judging only that doc."""
    rng = random.Random(7)
    shared = [_word(rng) for _ in range(30)]
    used: set[str] = set()
    folder = root / "synthetic"
    (folder / "qrels").mkdir(parents=True)
    corpus, queries, qrels = [], [], ["query-id\tcorpus-id\tscore"]
    for n in range(n_docs):
        title_words: list[str] = []
        while len(title_words) < 3:
            word = _word(rng)
            if word not in used and word not in shared:
                used.add(word)
                title_words.append(word)
        title = " ".join(title_words)
        body = " ".join(rng.choice(shared) for _ in range(25))
        corpus.append({"_id": f"d{n}", "title": title, "text": body})
        queries.append({"_id": f"q{n}", "text": title})
        qrels.append(f"q{n}\td{n}\t1")
    # An unjudged query must not be evaluated.
    queries.append({"_id": "unjudged", "text": shared[0]})
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus))
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    # CRLF, as some real BEIR qrels files have.
    (folder / "qrels" / "test.tsv").write_text("\r\n".join(qrels) + "\r\n", newline="")
    return folder


def test_smoke_ranks_the_doc_whose_title_is_the_query_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    from benchmarks.cli import main

    collection = _write_beir(tmp_path)
    out = tmp_path / "results"
    result = CliRunner().invoke(
        main,
        [
            "relevance", "--smoke",
            "--collections", str(collection),
            "--output-dir", str(out),
            "--cache-dir", str(tmp_path / "cache"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    [report] = out.glob("relevance-*-smoke.json")
    payload = json.loads(report.read_text())
    assert payload["collections"] == {"synthetic-smoke": {"docs": 40, "queries": 20}}
    by_engine = {r["engine"]: r for r in payload["results"]}
    assert set(by_engine) == {"bm25s", "fts5", "tantivy"}
    for engine, row in by_engine.items():
        assert row["status"] == "ok", (engine, row["message"])
        assert row["ndcg_10"] == pytest.approx(1.0), engine
        assert row["mrr_10"] == pytest.approx(1.0), engine
        assert row["recall_100"] == pytest.approx(1.0), engine
        assert row["zero_hit_queries"] == 0
        assert 0.0 <= row["typo_ndcg_10"] <= 1.0
    assert (out / report.name.replace(".json", ".md")).read_text().startswith("# Relevance")
    assert (out / report.name.replace(".json", ".png")).stat().st_size > 0


def test_typos_edit_each_long_word_once_and_reproducibly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    from benchmarks.typos import with_typos

    query = "the quick brown foxes jumped over dogs"
    typoed = with_typos(query, "13:q1")
    assert typoed == with_typos(query, "13:q1")
    before, after = query.split(), typoed.split()
    assert len(before) == len(after)
    for original, edited in zip(before, after, strict=True):
        if len(original) >= 5:
            assert edited != original
            assert abs(len(edited) - len(original)) <= 1
        else:
            assert edited == original


def test_metrics_count_queries_without_hits_as_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    from benchmarks.metrics import evaluate

    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    scores = evaluate(qrels, {"q1": ["a", "x"], "q2": []})
    assert scores.ndcg_10 == pytest.approx(0.5)
    assert scores.mrr_10 == pytest.approx(0.5)
    assert scores.recall_100 == pytest.approx(0.5)
    assert scores.zero_hit_queries == 1


def test_without_collections_it_says_what_data_is_needed_and_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    from benchmarks import cli

    monkeypatch.setattr(cli, "DATA_ROOT", tmp_path / "absent")
    result = CliRunner().invoke(cli.main, ["relevance"])
    assert result.exit_code == 2
    for needed in ("scifact", "nfcorpus", "cisi", "npl", "SIFT_BENCH_DATA", str(tmp_path)):
        assert needed in result.output
