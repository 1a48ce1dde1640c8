from __future__ import annotations

import numpy as np

from sift.semantic import fusion


def test_ratio_extremes_are_pure_legs() -> None:
    lex, sem = np.array([3.0, 1.0, 0.0]), np.array([0.1, 0.9, 0.5])
    assert np.argmax(fusion.fuse(lex, sem, 0.0)) == 0
    assert np.argmax(fusion.fuse(lex, sem, 1.0)) == 1


def test_z_scores_make_scales_irrelevant() -> None:
    lex, sem = np.array([30.0, 10.0, 0.0]), np.array([0.1, 0.9, 0.5])
    a = fusion.fuse(lex, sem, 0.5)
    b = fusion.fuse(lex / 10.0, sem, 0.5)
    assert np.allclose(a, b)


def test_balanced_fusion_prefers_a_document_good_on_both() -> None:
    lex = np.array([10.0, 9.0, 0.0, 0.0])
    sem = np.array([0.2, 0.8, 0.85, 0.1])
    assert np.argmax(fusion.fuse(lex, sem, 0.5)) == 1


def test_rrf_textbook_values() -> None:
    scores = fusion.rrf([["a", "b"], ["b", "c"]])
    assert scores["b"] == 1 / 62 + 1 / 61 and scores["a"] == 1 / 61


def test_minmax_blend_missing_document_gets_zero_from_that_list() -> None:
    out = fusion.minmax_blend((["a", "b"], [2.0, 1.0]), (["b", "c"], [0.9, 0.5]))
    assert out == {"a": 0.5, "b": 0.5, "c": 0.0}


def test_effective_ratio_keeps_extremes_and_default() -> None:
    params = fusion.FusionParams()
    assert fusion.effective_ratio(0.0, np.ones(10), 3, params) == 0.0
    assert fusion.effective_ratio(1.0, np.ones(10), 3, params) == 1.0
    assert abs(fusion.effective_ratio(0.5, np.arange(10.0), 4, params) - 0.5) < 1e-9


def test_short_queries_lean_lexical() -> None:
    params = fusion.FusionParams()
    one, three, four = (fusion.effective_ratio(0.5, np.arange(10.0), n, params) for n in (1, 3, 4))
    assert one < three < four == 0.5
    assert abs(one - 1 / (1 + np.exp(1.2))) < 1e-9  # 3 words short of 4, 0.4 each
