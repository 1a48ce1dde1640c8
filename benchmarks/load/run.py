"""One speed run: every engine's single-client latency, then the HTTP load levels.

Servers run one at a time, each stopped before the next starts, so no engine competes
with another for the two cores; within one server, the no-op and search runs alternate
per connection level so their ratio is taken under the same background load."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.collections import Collection
from benchmarks.load.generator import LoadResult, run_python, run_wrk, write_requests
from benchmarks.load.latency import LatencyResult, http_latency, in_process_latency
from benchmarks.load.servers import SiftServer, start_typesense
from benchmarks.load.targets import HttpTarget, Request
from benchmarks.runners.base import RunnerUnavailable

Log = Callable[[str], None]


@dataclass
class SpeedConfig:
    in_process: Sequence[str]
    sift_workers: Sequence[int]
    typesense: bool
    connections: Sequence[int]
    duration_s: float
    generator: str  # "wrk" or "python"
    seed: int
    sift_log_level: str = "info"
    mixes: Sequence[str] = ("all", "typeahead")


@dataclass
class SpeedResults:
    latency: list[LatencyResult] = field(default_factory=list)
    load: list[LoadResult] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


# Load-test traffic. "all": equal parts of every kind, long questions included (they
# dominate the cost). "typeahead": what a search box sends, short and prefix queries.
MIXES = {"all": ("full", "short", "prefix"), "typeahead": ("short", "prefix")}


def load_mix(query_sets: Mapping[str, Sequence[str]], seed: int) -> list[str]:
    """The given kinds in equal parts, shuffled with the seed."""
    mixed = [q for queries in query_sets.values() for q in queries]
    random.Random(seed).shuffle(mixed)
    return mixed


def load_mixes(
    query_sets: Mapping[str, Sequence[str]], names: Sequence[str], seed: int
) -> dict[str, list[str]]:
    return {name: load_mix({k: query_sets[k] for k in MIXES[name]}, seed) for name in names}


def run_speed(
    collection: Collection,
    query_sets: Mapping[str, Sequence[str]],
    config: SpeedConfig,
    cache_dir: Path,
    log: Log,
) -> SpeedResults:
    results = SpeedResults()
    for engine in config.in_process:
        log(f"{engine}: indexing {len(collection.docs)} docs, timing queries")
        rows, settings = in_process_latency(engine, collection.docs, query_sets, cache_dir, log)
        results.latency += rows
        results.settings[engine] = settings
    mixes = load_mixes(query_sets, config.mixes, config.seed)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch:
        work = Path(scratch)
        if config.sift_workers:
            _run_sift(collection, query_sets, mixes, config, work, results, log)
        if config.typesense:
            _run_typesense(collection, query_sets, mixes, config, cache_dir, work, results, log)
    return results


def _run_sift(
    collection: Collection,
    query_sets: Mapping[str, Sequence[str]],
    mixes: Mapping[str, Sequence[str]],
    config: SpeedConfig,
    work: Path,
    results: SpeedResults,
    log: Log,
) -> None:
    server = SiftServer(log_level=config.sift_log_level)
    try:
        target = server.start(1)
        log(f"sift: indexing {len(collection.docs)} docs")
        server.index(collection.docs)
        for position, workers in enumerate(config.sift_workers):
            if workers != server.workers:
                target = server.start(workers)
                server.wait_documents(len(collection.docs))
            results.settings[target.name] = target.settings
            # Single-client latency once, from the first worker count: one client keeps
            # one worker busy, so more workers cannot change it.
            if position == 0:
                log(f"{target.name}: single-client latency")
                results.latency += _named(http_latency(target, query_sets), "sift")
            _load_levels(target, mixes, config, work, results, log, with_noop=True)
    finally:
        server.close()


def _run_typesense(
    collection: Collection,
    query_sets: Mapping[str, Sequence[str]],
    mixes: Mapping[str, Sequence[str]],
    config: SpeedConfig,
    cache_dir: Path,
    work: Path,
    results: SpeedResults,
    log: Log,
) -> None:
    log(f"typesense: starting, importing {len(collection.docs)} docs")
    try:
        target, runner = start_typesense(cache_dir, collection.docs)
    except RunnerUnavailable as exc:
        log(f"typesense: skipped ({exc})")
        results.skipped["typesense"] = str(exc)
        return
    try:
        results.settings[target.name] = target.settings
        log("typesense: single-client latency")
        results.latency += http_latency(target, query_sets)
        _load_levels(target, mixes, config, work, results, log, with_noop=False)
    finally:
        runner.close()  # type: ignore[attr-defined]


def _load_levels(
    target: HttpTarget,
    mixes: Mapping[str, Sequence[str]],
    config: SpeedConfig,
    work: Path,
    results: SpeedResults,
    log: Log,
    *,
    with_noop: bool,
) -> None:
    # (endpoint, mix) -> the requests replayed; the no-op first at every level.
    runs: dict[tuple[str, str], list[Request]] = {}
    if with_noop:
        runs["noop", ""] = [target.noop_request()]
    for mix, queries in mixes.items():
        runs["search", mix] = [target.search_request(q) for q in queries]
    files = {
        key: write_requests(work / f"{target.name}-{key[0]}-{key[1] or 'none'}.tsv", requests)
        for key, requests in runs.items()
    }
    for connections in config.connections:
        for (endpoint, mix), requests in runs.items():
            if config.generator == "wrk":
                row = run_wrk(
                    target, endpoint, files[endpoint, mix], connections, config.duration_s
                )
            else:
                row = run_python(target, endpoint, requests, connections, config.duration_s)
            row.mix = mix
            log(
                f"{target.name} {endpoint} {mix} c={connections}: {row.rps:,.0f} req/s, "
                f"p50 {row.latency_ms.get('p50', 0):.1f} ms, p99 {row.latency_ms.get('p99', 0):.1f}"
                f" ms, {row.errors} errors"
            )
            results.load.append(row)


def _named(rows: list[LatencyResult], engine: str) -> list[LatencyResult]:
    for row in rows:
        row.engine = engine
    return rows
