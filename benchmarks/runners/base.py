"""The one interface every engine under test implements."""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Doc:
    id: str
    title: str
    text: str

    @property
    def contents(self) -> str:
        """Title and body as one field, the way Anserini's BEIR "flat" indexes do it."""
        return f"{self.title} {self.text}".strip()


class RunnerUnavailable(RuntimeError):
    """The engine cannot run on this machine (missing package, binary or server).

    The harness records the message and skips the engine instead of failing the run."""


@dataclass
class BatchResult:
    hits: list[list[str]]
    # Per-query latency in milliseconds. Batch-only engines (a CLI run over all queries)
    # report the amortised wall time for every query and set `amortised`.
    latencies_ms: list[float]
    amortised: bool = False


class Runner(ABC):
    name: str

    @abstractmethod
    def index(self, docs: Sequence[Doc]) -> None:
        """Index every doc, returning once they are all searchable."""

    @abstractmethod
    def search(self, query: str, k: int) -> list[str]:
        """Doc ids of the top `k` hits, best first."""

    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """Engine version and every setting that shapes the ranking, for the report."""

    def search_batch(self, queries: Sequence[str], k: int) -> BatchResult:
        hits: list[list[str]] = []
        latencies: list[float] = []
        for query in queries:
            start = time.perf_counter()
            hits.append(self.search(query, k))
            latencies.append((time.perf_counter() - start) * 1000)
        return BatchResult(hits=hits, latencies_ms=latencies)

    def close(self) -> None:  # noqa: B027 - most runners hold nothing to release
        """Stop servers and delete temporary data."""

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Letters and digits only: every engine's query syntax treats these literally, so OR-ing
# them needs no escaping beyond what each runner adds for its own quoting rules.
_TERM = re.compile(r"[^\W_]+")


def query_terms(query: str) -> list[str]:
    """Lower-cased word terms of a free-text query. Repeats are kept: a repeated word
    weighs double in BM25 as Lucene scores it, and the OR runners should match that."""
    return _TERM.findall(query.lower())
