"""Every engine the relevance benchmark can run, by the name used on the command line.

Runner modules are imported lazily: each needs its own optional packages or binaries,
and a missing one must skip that engine, not break the others."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from benchmarks.runners.base import Runner, RunnerUnavailable

RunnerFactory = Callable[[Path], Runner]


def _lucene(cache: Path) -> Runner:
    from benchmarks.runners.lucene_anserini import LuceneRunner

    return LuceneRunner(cache)


def _typesense(cache: Path) -> Runner:
    from benchmarks.runners.typesense_server import TypesenseRunner

    return TypesenseRunner(cache, tuned=False)


def _typesense_tuned(cache: Path) -> Runner:
    from benchmarks.runners.typesense_server import TypesenseRunner

    return TypesenseRunner(cache, tuned=True)


def _postgres(_cache: Path) -> Runner:
    from benchmarks.runners.postgres_fts import PostgresRunner

    return PostgresRunner()


def _fts5(_cache: Path) -> Runner:
    from benchmarks.runners.sqlite_fts5 import Fts5Runner

    return Fts5Runner()


def _tantivy(_cache: Path) -> Runner:
    from benchmarks.runners.tantivy_bm25 import TantivyRunner

    return TantivyRunner()


def _bm25s(_cache: Path) -> Runner:
    from benchmarks.runners.bm25s_lexical import Bm25sRunner

    return Bm25sRunner()


def _minilm(cache: Path) -> Runner:
    from benchmarks.runners.dense_minilm import DenseMiniLMRunner

    return DenseMiniLMRunner(cache / "embeddings")


def _sift(_cache: Path) -> Runner:
    from benchmarks.runners.sift_http import SiftRunner

    return SiftRunner()


def _sift_meilisearch(_cache: Path) -> Runner:
    from benchmarks.runners.sift_http import SiftRunner

    return SiftRunner(index_defaults="meilisearch")


def _sift_hybrid(_cache: Path) -> Runner:
    from benchmarks.runners.sift_http import SiftRunner

    return SiftRunner(hybrid=True)


RUNNERS: dict[str, RunnerFactory] = {
    "lucene": _lucene,
    "typesense": _typesense,
    "typesense-tuned": _typesense_tuned,
    "postgres": _postgres,
    "fts5": _fts5,
    "tantivy": _tantivy,
    "bm25s": _bm25s,
    "minilm": _minilm,
    "sift": _sift,
    "sift-meilisearch": _sift_meilisearch,
    "sift-hybrid": _sift_hybrid,
}

# Pure PyPI engines with no JVM, server or model: quick enough for CI.
SMOKE_ENGINES = ("bm25s", "fts5", "tantivy")


def create_runner(name: str, cache_dir: Path) -> Runner:
    try:
        factory = RUNNERS[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; known: {', '.join(RUNNERS)}") from None
    return factory(cache_dir)


__all__ = ["RUNNERS", "SMOKE_ENGINES", "Runner", "RunnerUnavailable", "create_runner"]
