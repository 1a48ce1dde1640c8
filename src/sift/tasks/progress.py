"""The progress of the batch being processed, in Meilisearch's `progress` format.

A batch's progress is a stack of steps, outermost first; each says which of its
level's ``total`` steps is current (``finished`` of them are done) or, at the
innermost level, how many units (documents) are done::

    {"steps": [{"currentStep": "embedding documents", "finished": 0, "total": 2},
               {"currentStep": "document", "finished": 640, "total": 1000}],
     "percentage": 32.0}

The worker creates one :class:`BatchProgress` per batch and makes it *current* (a
context variable) while the batch runs, so that code deep in the batch (document
writes, embedding) can report without every signature carrying it. Progress lives
in the memory of the process running the worker: with several nodes on one
database, only the node holding the worker lease shows it (the others show
``null``, as for a finished batch).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sift.engine.pipeline.timing import duration_text


class Interrupted(Exception):
    """The worker is stopping: work done so far is committed, the rest is left for the
    rerun of the interrupted tasks."""


@dataclass
class Step:
    name: str
    finished: int
    total: int


class BatchProgress:
    def __init__(self, batch_uid: int) -> None:
        self.batch_uid = batch_uid
        self._steps: list[Step] = []
        self._lock = threading.Lock()
        # Seconds spent per step path ("indexing > document"), for `progressTrace`.
        self._entered: list[float] = []
        self._spent: dict[str, float] = {}
        # Texts embedded by a model, and texts whose vector came from the cache.
        self.embedded = 0
        self.cached = 0
        self.stopping = False  # set by Worker.stop: long steps end early (Interrupted)

    def check(self) -> None:
        """Between two chunks of a long step: raise Interrupted if the worker is stopping."""
        if self.stopping:
            raise Interrupted(f"batch {self.batch_uid} interrupted")

    def enter(self, depth: int, name: str, finished: int, total: int) -> None:
        """Make `name` the current step at `depth`; deeper steps are dropped."""
        with self._lock:
            self._close(depth)
            self._steps.append(Step(name, finished, max(total, finished)))
            self._entered.append(time.perf_counter())
            # Paths keep the order they were first entered in (outer before inner).
            self._spent.setdefault(" > ".join(s.name for s in self._steps), 0.0)

    def _close(self, depth: int) -> None:
        """End the steps at `depth` and deeper, adding their time to their paths."""
        now = time.perf_counter()
        for level in range(len(self._steps) - 1, depth - 1, -1):
            path = " > ".join(s.name for s in self._steps[: level + 1])
            self._spent[path] = self._spent.get(path, 0.0) + now - self._entered[level]
        del self._steps[depth:]
        del self._entered[depth:]

    def trace(self) -> dict[str, str]:
        """Time per step path so far (open steps count up to now), outermost first, in
        Meilisearch's duration format; the batch's steps are closed."""
        with self._lock:
            self._close(0)
            return {path: duration_text(s) for path, s in self._spent.items()}

    def advance(self, count: int = 1) -> None:
        """`count` more units of the innermost step are done."""
        with self._lock:
            if self._steps:
                step = self._steps[-1]
                step.finished = min(step.finished + count, step.total)

    def count_embeddings(self, embedded: int, cached: int) -> None:
        with self._lock:
            self.embedded += embedded
            self.cached += cached

    def view(self) -> dict[str, Any]:
        with self._lock:
            steps = [
                {"currentStep": s.name, "finished": s.finished, "total": s.total}
                for s in self._steps
            ]
        percentage, scale = 0.0, 1.0
        for step in steps:
            if step["total"] <= 0:
                break
            scale /= step["total"]
            percentage += step["finished"] * scale
        return {"steps": steps, "percentage": round(percentage * 100, 3)}


class _Nothing(BatchProgress):
    """Stands in when no batch is running (tests, rebuilds): reports go nowhere."""

    def enter(self, depth: int, name: str, finished: int, total: int) -> None:
        return None

    def advance(self, count: int = 1) -> None:
        return None

    def count_embeddings(self, embedded: int, cached: int) -> None:
        return None

    def check(self) -> None:
        return None


NOTHING = _Nothing(-1)
_CURRENT: ContextVar[BatchProgress] = ContextVar("sift_batch_progress", default=NOTHING)


def current() -> BatchProgress:
    return _CURRENT.get()


@contextmanager
def reporting(progress: BatchProgress) -> Iterator[BatchProgress]:
    token = _CURRENT.set(progress)
    try:
        yield progress
    finally:
        _CURRENT.reset(token)
