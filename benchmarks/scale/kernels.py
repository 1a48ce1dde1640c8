"""`python -m benchmarks.scale.kernels --index-cache FILE [--docs N]`: what each compiled
kernel and each large step of the scale mix's slowest searches costs, alone.

The products index is loaded and warmed as `benchmarks.scale.stages` does, the mix runs
once to find its slowest searches (CPU of the searching thread), and each of them runs
once more with every kernel of `sift.engine.kernels` (and the steps around them:
the facet counts, the page's order, the relevance rule) recorded with copies of their
arguments. Each recorded call is then rerun alone ``--repeat`` times on fresh copies
(the copy is not timed: kernels such as ``add_where_all`` write into their arguments)
and its median CPU time printed, in call order. Numpy between the kernels is the search
less the calls listed (their nesting shown by indentation). ``--query``/``--filter``
pick one search instead of the slowest of the mix.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.scale.lockstep import WARM_QUERIES
from benchmarks.scale.products_index import products_index
from benchmarks.scale.queries import FACETS, typeahead


@dataclass
class Call:
    label: str
    depth: int
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    once_ms: float


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


class Recorder:
    """Wraps functions in place; while ``on``, each call is kept with copies of its
    array arguments (taken before the call: a kernel may write into them)."""

    def __init__(self) -> None:
        self.on = False
        self.calls: list[Call] = []
        self.depth = 0
        self.wrapped: list[tuple[Any, str, Any]] = []  # (module, name, the original)

    def restore(self) -> None:
        for module, name, fn in reversed(self.wrapped):
            setattr(module, name, fn)
        self.wrapped.clear()

    def wrap(self, module: Any, name: str, label: str | None = None) -> None:
        fn = getattr(module, name)
        recorder = self
        self.wrapped.append((module, name, fn))

        def recorded(*args: Any, **kwargs: Any) -> Any:
            if not recorder.on:
                return fn(*args, **kwargs)
            call = Call(label or name, recorder.depth, fn, tuple(_copy(a) for a in args),
                        {k: _copy(v) for k, v in kwargs.items()}, 0.0)
            recorder.calls.append(call)
            recorder.depth += 1
            began = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                call.once_ms = (time.thread_time() - began) * 1000
                recorder.depth -= 1

        setattr(module, name, recorded)


def _instrument(recorder: Recorder) -> None:
    import sift.engine.kernels as kernels
    import sift.engine.match as match
    import sift.engine.pipeline.lexical as lexical
    import sift.engine.pipeline.respond as respond
    import sift.engine.ranking as ranking
    import sift.engine.word_totals as word_totals

    # Python-level steps first, so their kernels nest inside them.
    recorder.wrap(respond, "facets", "facets (both fields)")
    recorder.wrap(lexical, "rank", "rank")
    recorder.wrap(ranking, "relevance_scores", "relevance rule")
    recorder.wrap(ranking, "top_order", "page order")
    recorder.wrap(lexical, "trailing_word_features", "last word's totals")
    recorder.wrap(lexical, "one_word_features", "word totals")
    # Each module that imported a kernel by name calls it through its own namespace;
    # fields.groups calls them through the kernels module's.
    for module in (kernels, match, ranking, word_totals):
        for name in dir(module):
            if name in kernels.PYTHON and not name.startswith("_"):
                recorder.wrap(module, name)


def _rerun(call: Call, repeat: int) -> float:
    spent = []
    for _ in range(repeat):
        args = tuple(_copy(a) for a in call.args)
        kwargs = {k: _copy(v) for k, v in call.kwargs.items()}
        began = time.thread_time()
        call.fn(*args, **kwargs)
        spent.append((time.thread_time() - began) * 1000)
    return statistics.median(spent)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale.kernels",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-cache", required=True)
    parser.add_argument("--docs", type=int, default=1_000_000, help="when building the index")
    parser.add_argument("--queries", type=int, default=300, help="searches of the mix")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--slowest", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--query")
    parser.add_argument("--filter", default="in_stock = true")
    args = parser.parse_args(argv)

    index = products_index(args.docs, args.seed, args.index_cache)
    (getattr(index, "warm", None) or getattr(index, "warm_prefixes", lambda: 0))()
    recorder = Recorder()
    _instrument(recorder)
    try:
        _measure(index, recorder, args)
    finally:
        recorder.restore()


def _measure(index: Any, recorder: Recorder, args: argparse.Namespace) -> None:
    from sift.engine.query import SearchParams

    bodies = typeahead(args.queries + WARM_QUERIES, args.seed)
    if args.query is not None:
        chosen = [{"q": args.query, "filter": args.filter, "facets": FACETS, "limit": 10}]
    else:
        timed = []
        for i, body in enumerate(bodies):
            began = time.thread_time()
            index.search(SearchParams.from_dict(body))
            if i >= WARM_QUERIES:
                timed.append(((time.thread_time() - began) * 1000, i))
        chosen = [bodies[i] for _, i in sorted(timed, reverse=True)[:args.slowest]]
    print(f"products, {args.docs:,} docs; load average {os.getloadavg()[0]:.1f}; CPU ms, "
          f"median of {args.repeat} reruns of each captured call")
    for body in chosen:
        params = SearchParams.from_dict(body)
        index.search(params)  # its caches (a filter's mask) as the mix left them
        recorder.calls.clear()
        recorder.on = True
        began = time.thread_time()
        index.search(SearchParams.from_dict(body))
        total = (time.thread_time() - began) * 1000
        recorder.on = False
        whole = [_rerun(Call("search", 0, index.search, (SearchParams.from_dict(body),), {},
                             0.0), 1) for _ in range(args.repeat)]
        print(f"\n{body['q']!r} ({body['filter']}): captured {total:.2f} ms, alone "
              f"{statistics.median(whole):.2f} (median of {args.repeat})")
        for call in recorder.calls:
            print(f"  {'  ' * call.depth}{call.label:<28} {_rerun(call, args.repeat):7.2f}"
                  f"   (in the search {call.once_ms:.2f})")


if __name__ == "__main__":
    main()
