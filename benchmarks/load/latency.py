"""Single-client query latency: one query at a time, nothing else in flight.

Servers are timed end to end over a kept-alive HTTP connection (what a client sees)
beside the time the engine reports for itself; the difference is the HTTP, JSON and
framework cost. In-process engines (bm25s, tantivy, SQLite FTS5) are timed around the
runner's search call, which is their whole cost."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.load.stats import summary
from benchmarks.load.targets import TOP_K, HttpTarget, Request
from benchmarks.runners import create_runner
from benchmarks.runners.base import Doc, RunnerUnavailable

# Untimed queries first: JIT-free engines still fill caches and open connections.
WARMUP_QUERIES = 20


@dataclass
class LatencyResult:
    engine: str
    kind: str
    transport: str  # "http" or "in-process"
    end_to_end_ms: dict[str, float]
    engine_ms: dict[str, float] | None
    mean_hits: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


NOOP_KIND = "no-op"


def http_latency(
    target: HttpTarget, query_sets: Mapping[str, Sequence[str]]
) -> list[LatencyResult]:
    """Every query kind, then the server's no-op request as many times: its round trip is
    the floor under every search, client included."""
    requests = {kind: [target.search_request(q) for q in qs] for kind, qs in query_sets.items()}
    count = max((len(qs) for qs in query_sets.values()), default=0)
    requests[NOOP_KIND] = [target.noop_request()] * count
    results = []
    with httpx.Client(base_url=target.base_url, headers=target.headers, timeout=30) as http:
        for kind, batch in requests.items():
            for request in batch[:WARMUP_QUERIES]:
                _send(http, target, request)
            wall, engine, hits = [], [], []
            for request in batch:
                start = time.perf_counter()
                answer = _send(http, target, request)
                wall.append((time.perf_counter() - start) * 1000)
                if kind != NOOP_KIND:
                    reported = target.engine_ms(answer)
                    if reported is not None:
                        engine.append(reported)
                    hits.append(target.hit_count(answer))
            results.append(
                LatencyResult(
                    engine=target.name,
                    kind=kind,
                    transport="http",
                    end_to_end_ms=summary(wall),
                    engine_ms=summary(engine) if engine else None,
                    mean_hits=round(sum(hits) / len(hits), 2) if hits else 0.0,
                )
            )
    return results


def _send(http: httpx.Client, target: HttpTarget, request: Request) -> dict[str, Any]:
    response = http.request(
        request.method,
        request.path,
        content=request.body.encode() or None,
        headers={"Content-Type": "application/json"} if request.body else None,
    )
    if response.status_code != 200:
        raise RuntimeError(
            f"{target.name} {request.method} {request.path[:80]} {request.body[:80]}: "
            f"{response.status_code} {response.text[:200]}"
        )
    return response.json()


def in_process_latency(
    engine: str,
    docs: Sequence[Doc],
    query_sets: Mapping[str, Sequence[str]],
    cache_dir: Path,
    log: Callable[[str], None],
) -> tuple[list[LatencyResult], dict[str, Any]]:
    """Index `docs` with a relevance runner and time its search(). Returns the rows and
    the runner's settings; an engine that cannot run here returns no rows and the reason."""
    try:
        runner = create_runner(engine, cache_dir)
    except RunnerUnavailable as exc:
        log(f"{engine}: skipped ({exc})")
        return [], {"skipped": str(exc)}
    with runner:
        runner.index(docs)
        results = []
        for kind, queries in query_sets.items():
            for query in queries[:WARMUP_QUERIES]:
                runner.search(query, TOP_K)
            wall, hits = [], []
            for query in queries:
                start = time.perf_counter()
                found = runner.search(query, TOP_K)
                wall.append((time.perf_counter() - start) * 1000)
                hits.append(len(found))
            results.append(
                LatencyResult(
                    engine=engine,
                    kind=kind,
                    transport="in-process",
                    end_to_end_ms=summary(wall),
                    engine_ms=None,
                    mean_hits=round(sum(hits) / len(hits), 2),
                )
            )
        return results, runner.settings()
