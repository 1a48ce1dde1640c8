"""bm25s (pure-Python sparse BM25) with the library's own defaults."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from typing import Any

from benchmarks.runners.base import Doc, Runner, RunnerUnavailable

# bm25s.tokenize defaults, spelled out so the report states them: English stop words,
# no stemmer, lower-casing, tokens of two or more word characters.
STOPWORDS = "english"


class Bm25sRunner(Runner):
    name = "bm25s"

    def __init__(self) -> None:
        try:
            import bm25s
        except ImportError as exc:
            raise RunnerUnavailable("bm25s is not installed (pip install bm25s)") from exc
        self._bm25s = bm25s
        self._retriever: Any = None
        self._ids: list[str] = []

    def index(self, docs: Sequence[Doc]) -> None:
        self._ids = [d.id for d in docs]
        tokens = self._bm25s.tokenize(
            [d.contents for d in docs], stopwords=STOPWORDS, show_progress=False
        )
        self._retriever = self._bm25s.BM25()
        self._retriever.index(tokens, show_progress=False)

    def search(self, query: str, k: int) -> list[str]:
        tokens = self._bm25s.tokenize(
            [query], stopwords=STOPWORDS, return_ids=False, show_progress=False
        )
        # Terms unknown to the corpus would make retrieve() fail; they cannot match anyway.
        known = [t for t in tokens[0] if t in self._retriever.vocab_dict]
        if not known:
            return []
        k = min(k, len(self._ids))
        doc_idx, scores = self._retriever.retrieve([known], k=k, show_progress=False)
        # bm25s pads with zero-score rows when fewer than k docs contain a term.
        return [self._ids[i] for i, s in zip(doc_idx[0], scores[0], strict=True) if s > 0]

    def settings(self) -> dict[str, Any]:
        params = {"k1": self._retriever.k1, "b": self._retriever.b} if self._retriever else {}
        return {
            "version": metadata.version("bm25s"),
            "method": "lucene",
            **params,
            "stopwords": STOPWORDS,
            "stemmer": None,
            "fields": "title + ' ' + text",
        }
