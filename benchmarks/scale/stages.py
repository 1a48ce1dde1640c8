"""`python -m benchmarks.scale.stages --index-cache FILE [--docs N]`: where the CPU time of
the scale benchmark's typeahead mix goes, per kind of query, in this tree's engine.

The products index is unpickled from ``--index-cache`` (as `benchmarks.scale.lockstep`
writes it; built and written here when the file is missing), warmed as a server warms
an index it loaded (``SearchIndex.warm``, or ``warm_prefixes`` in an older tree), and
each search of the mix runs in process with the engine's stages wrapped: the CPU time
of the calling thread spent in each (the stages nest: ``rank`` holds ``relevance``,
which holds ``term frequencies``, ``saturated sum``, ``top-300 cut``, ``proximity
bonus`` and ``every-word bonus``; ``candidates`` is the union of the words' documents,
``facets`` the two facet counts over every match; ``last word's totals`` the
candidates and term frequencies of several words whose last has cached totals). A
stage this tree's engine lacks is left out (main's ``smallest_k`` is its top-300 cut;
``largest_rows`` or ``largest_rows_binned`` later; the proximity bonus ``add_proximity_bonus``
or, for every pair at once, ``add_pair_bonuses``).
Printed per kind (one word or several; the last word's length, 4 meaning 4 or more):
p50 and mean of the whole search, then each stage's mean per search; then the slowest
searches with their stages.
The wrapping adds a few microseconds per stage: compare trees with the lockstep
benchmark, read shares here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.scale.lockstep import WARM_QUERIES, kind
from benchmarks.scale.products_index import products_index
from benchmarks.scale.queries import typeahead

Spent = dict[str, float]


def _wrap(module: Any, name: str, label: str, spent: Spent) -> None:
    fn: Callable[..., Any] = getattr(module, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[label] += (time.thread_time() - began) * 1000

    setattr(module, name, timed)


def _instrument(spent: Spent) -> None:
    import sift.engine.match as match
    import sift.engine.pipeline as pipeline
    import sift.engine.pipeline.lexical as lexical
    import sift.engine.pipeline.respond as respond
    import sift.engine.ranking as ranking

    for module, name, label in (
        (pipeline, "parse", "parse and filter"), (lexical, "expand", "expand words"),
        (lexical, "gather_found", "gather occurrences"),
        (lexical, "one_word_features", "word totals"),
        (lexical, "trailing_word_features", "last word's totals"), (lexical, "rank", "rank"),
        (ranking, "relevance_scores", "relevance"),
        (ranking, "term_frequencies", "term frequencies"),
        (ranking, "saturated_sum", "saturated sum"), (ranking, "coded_sum", "saturated sum"),
        # The common ranking's sum, top-300 cut and bonuses in one kernel call.
        (ranking, "relevance_raw", "relevance kernel"),
        # The same with the page's order and rows, where the relevance rule alone ranks.
        (ranking, "relevance_ranked", "relevance kernel"),
        (ranking, "smallest_k", "top-300 cut"), (ranking, "largest_rows", "top-300 cut"),
        (ranking, "largest_rows_binned", "top-300 cut"),
        (ranking, "add_proximity_bonus", "proximity bonus"),
        (ranking, "add_pair_bonuses", "proximity bonus"),
        (ranking, "add_where_all", "every-word bonus"),
        (ranking, "top_order", "page order"), (respond, "facets", "facets"),
        (respond, "build_hits", "hits"),
    ):
        if hasattr(module, name):
            _wrap(module, name, label, spent)
    init = match.Features.__init__

    def features(self: Any, *args: Any, **kwargs: Any) -> None:
        began = time.thread_time()
        init(self, *args, **kwargs)
        spent["candidates"] += (time.thread_time() - began) * 1000

    match.Features.__init__ = features  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale.stages",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-cache", type=Path, required=True)
    parser.add_argument("--docs", type=int, default=100_000, help="when building the index")
    parser.add_argument("--queries", type=int, default=300, help="measured searches")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--slowest", type=int, default=8)
    parser.add_argument("--search", type=int, action="append", default=[], metavar="I",
                        help="also print the stages of the mix's I-th search (from 0, "
                        "the warm-up included): a filter's first use, say")
    args = parser.parse_args(argv)
    from sift.engine.query import SearchParams

    index = products_index(args.docs, args.seed, args.index_cache)
    (getattr(index, "warm", None) or getattr(index, "warm_prefixes", lambda: 0))()
    spent: Spent = defaultdict(float)
    _instrument(spent)
    per_kind: dict[str, list[tuple[float, Spent]]] = defaultdict(list)
    slow: list[tuple[float, str, str, Spent]] = []
    chosen: list[tuple[int, float, str, str, Spent]] = []
    for i, body in enumerate(typeahead(args.queries + WARM_QUERIES, args.seed)):
        spent.clear()
        began = time.thread_time()
        index.search(SearchParams.from_dict(body))
        total = (time.thread_time() - began) * 1000
        if i in args.search:
            chosen.append((i, total, body["q"], body["filter"], dict(spent)))
        if i < WARM_QUERIES:
            continue
        for k in (kind(body["q"]), "all"):
            per_kind[k].append((total, dict(spent)))
        slow.append((total, body["q"], body["filter"], dict(spent)))
    print(f"products, {args.docs:,} docs ({args.index_cache}), {args.queries} searches; "
          f"load average {os.getloadavg()[0]:.1f}; CPU ms of the searching thread")
    for k in sorted(per_kind, key=lambda k: (k == "all", k)):
        rows = per_kind[k]
        totals = [t for t, _ in rows]
        stages: Spent = defaultdict(float)
        for _, s in rows:
            for name, ms in s.items():
                stages[name] += ms / len(rows)
        print(f"  {k} ({len(rows)}): p50 {statistics.median(totals):.2f} mean "
              f"{statistics.mean(totals):.2f} | " + ", ".join(
                  f"{name} {ms:.2f}" for name, ms in sorted(stages.items()) if ms >= 0.01))
    print(" slowest:")
    for total, q, where, s in sorted(slow, reverse=True)[:args.slowest]:
        print("  " + _search_line(total, q, where, s))
    for i, total, q, where, s in chosen:
        print(f" search #{i}: " + _search_line(total, q, where, s))


def _search_line(total: float, q: str, where: str, spent: Spent) -> str:
    """One search's total and its stages of 0.3 ms or more."""
    return f"{total:7.2f} {q!r} ({where}): " + ", ".join(
        f"{name} {ms:.2f}" for name, ms in sorted(spent.items()) if ms >= 0.3)


if __name__ == "__main__":
    main()
