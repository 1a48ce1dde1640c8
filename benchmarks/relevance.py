"""The relevance benchmark: index each collection in each engine, run its judged test
queries (clean and with typos), and score the rankings."""

from __future__ import annotations

import statistics
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.collections import Collection
from benchmarks.metrics import evaluate
from benchmarks.runners import RunnerUnavailable, create_runner
from benchmarks.typos import with_typos

TOP_K = 100
DEFAULT_TYPO_SEED = 13


@dataclass
class EngineResult:
    engine: str
    collection: str
    status: str  # "ok", "skipped" (engine unavailable here) or "failed"
    message: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    ndcg_10: float | None = None
    recall_100: float | None = None
    mrr_10: float | None = None
    typo_ndcg_10: float | None = None
    index_s: float | None = None
    query_ms_median: float | None = None
    query_time_amortised: bool = False
    zero_hit_queries: int | None = None
    typo_zero_hit_queries: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_relevance(
    collections: Sequence[Collection],
    engines: Sequence[str],
    cache_dir: Path,
    typo_seed: int = DEFAULT_TYPO_SEED,
    log: Callable[[str], None] = print,
) -> list[EngineResult]:
    results = []
    for collection in collections:
        typo_queries = {
            qid: with_typos(text, f"{typo_seed}:{collection.name}:{qid}")
            for qid, text in collection.queries.items()
        }
        for engine in engines:
            log(f"{collection.name} / {engine}: indexing {len(collection.docs)} docs")
            result = _run_one(engine, collection, typo_queries, cache_dir)
            log(f"{collection.name} / {engine}: {_summary(result)}")
            results.append(result)
    return results


def _run_one(
    engine: str, collection: Collection, typo_queries: dict[str, str], cache_dir: Path
) -> EngineResult:
    try:
        runner = create_runner(engine, cache_dir)
    except RunnerUnavailable as exc:
        return EngineResult(engine, collection.name, "skipped", message=str(exc))
    try:
        with runner:
            start = time.perf_counter()
            runner.index(collection.docs)
            index_s = time.perf_counter() - start

            qids = list(collection.queries)
            clean = runner.search_batch([collection.queries[q] for q in qids], TOP_K)
            typo = runner.search_batch([typo_queries[q] for q in qids], TOP_K)
            scores = evaluate(collection.qrels, dict(zip(qids, clean.hits, strict=True)))
            typo_scores = evaluate(collection.qrels, dict(zip(qids, typo.hits, strict=True)))
            return EngineResult(
                engine=engine,
                collection=collection.name,
                status="ok",
                settings=runner.settings(),
                ndcg_10=scores.ndcg_10,
                recall_100=scores.recall_100,
                mrr_10=scores.mrr_10,
                typo_ndcg_10=typo_scores.ndcg_10,
                index_s=index_s,
                query_ms_median=statistics.median(clean.latencies_ms),
                query_time_amortised=clean.amortised,
                zero_hit_queries=scores.zero_hit_queries,
                typo_zero_hit_queries=typo_scores.zero_hit_queries,
            )
    except RunnerUnavailable as exc:
        return EngineResult(engine, collection.name, "skipped", message=str(exc))
    except Exception as exc:
        # One broken engine must not cost the hours the other engines already ran.
        detail = "".join(traceback.format_exception_only(exc)).strip()
        traceback.print_exc()
        return EngineResult(engine, collection.name, "failed", message=detail)


def _summary(result: EngineResult) -> str:
    if result.status != "ok":
        return f"{result.status.upper()}: {result.message[:300]}"
    return (
        f"nDCG@10 {result.ndcg_10:.4f}  typo {result.typo_ndcg_10:.4f}  "
        f"R@100 {result.recall_100:.4f}  MRR@10 {result.mrr_10:.4f}  "
        f"index {result.index_s:.1f}s  query p50 {result.query_ms_median:.2f}ms  "
        f"zero-hit {result.zero_hit_queries}"
    )
