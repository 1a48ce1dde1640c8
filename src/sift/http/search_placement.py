"""Where a search runs: on the event loop when searches like it are quick, else on a thread.

Handing a search to a thread and its answer back to the event loop costs about 0.2 ms
(measured through the ASGI app on scifact: 1.26-1.38 ms p50 per search on a thread,
1.06-1.21 ms inline), as much as the engine spends on a typeahead query of a small index.
A long search must not hold the loop, though: every connection of the worker waits while
it runs. So searches are grouped by what makes them cost (index, number of words, filter,
facets, sort, page size) and each group's recent time is kept; a search runs inline only
when its group's recent time is within ``search_inline_ms``. A group not seen yet runs on
a thread first, and an inline search that turned out slow moves its group back to threads
(its time is recorded either way).

The hand-off's cost is not fixed, though: beside a steady stream of small requests (click
events, ~1,000/s per worker) the job waits for the loop to let go of the GIL and its
answer waits behind every request that arrived meanwhile; on the shared 2-core VM beside
2,000 events/s a search's route took 4.5-5.3 ms more than the search itself (1.3 ms) when
it ran on a thread, ~0.6 ms more inline (docs/benchmarks/events.md, "Click events", eighth
pass). So the hand-off is timed too, and a search runs inline also while
searches like it take less than a recent hand-off (up to ``MAX_HANDOFF_INLINE_S``): a
thread would delay it more than it delays the loop. One such search in ``PROBE_EVERY``
still goes to a thread, so that the hand-off's cost is measured again when the load goes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger("sift.http.search_placement")

# Weight of the newest time in a group's running average: a slow search moves a group off
# the loop at once (one 5 ms search lifts a 0.3 ms average to 1.2 ms), a quick run brings
# it back within a few searches.
NEWEST = 0.2
MAX_GROUPS = 4096  # forgotten all at once beyond this (index uids are unbounded)
# Body fields that make a search expensive or send it elsewhere: never inline.
NEVER_INLINE = ("hybrid", "vector", "useNetwork", "media", "retrieveVectors")
# A search is never kept inline for the hand-off's sake if searches like it take longer:
# beyond that the loop's other requests would wait longer than the hand-off costs.
MAX_HANDOFF_INLINE_S = 0.010
PROBE_EVERY = 16  # of the searches kept inline for the hand-off's sake, one goes to a thread
# A search thread hands its malloc arena's free top back (sift.tasks.memory.trim_arena)
# once no search has run on any thread for this long: after a burst, not between the
# searches of one (the 1M tail's reason for keeping that memory: SearchThreads below).
# Below the soak's drained read (at least 5 s after its last search), above a typing
# user's pauses.
TRIM_AFTER_S = 3.0
Group = tuple[Any, ...]


def group_of(index_uid: str, body: Mapping[str, Any]) -> Group | None:
    """What a search's cost depends on, or None for a search that always runs on a thread."""
    if any(body.get(field) for field in NEVER_INLINE):
        return None
    query = body.get("q")
    words = min(len(query.split()), 4) if isinstance(query, str) else 0
    page = body.get("limit", 20), body.get("offset", 0), body.get("hitsPerPage"), body.get("page")
    return (index_uid, words, repr(body.get("filter")), repr(body.get("facets")),
            repr(body.get("sort")), repr(page))  # fmt: skip


class SearchPlacement:
    """Recent search times by group, and the decision they make."""

    def __init__(self, inline_budget_s: float) -> None:
        self.budget = inline_budget_s
        self._average: dict[Group, float] = {}
        self.handoff = 0.0  # recent cost of a thread's round trip beyond the search's time
        self._kept = 0  # searches kept inline for the hand-off's sake, for the probes

    def inline(self, group: Group | None) -> bool:
        if group is None or self.budget <= 0:
            return False
        average = self._average.get(group)
        if average is None:
            return False
        if average <= self.budget:
            return True
        if average > min(self.handoff, MAX_HANDOFF_INLINE_S):
            return False
        self._kept += 1
        return self._kept % PROBE_EVERY != 0

    def handed_off(self, seconds: float) -> None:
        """Record what a search's round trip to a thread cost beyond the search itself:
        only for a search that found a thread idle, so that searches queued behind others
        (many at once) do not make every search look cheaper inline, which would put them
        all on the loop one at a time."""
        self.handoff += NEWEST * (max(seconds, 0.0) - self.handoff)

    def measured(self, group: Group | None, func: Callable[..., T], *args: Any
                 ) -> tuple[T, float]:  # fmt: skip
        """``func(*args)`` and the seconds it took, recorded for ``group`` (also when it
        raises); the seconds also serve the hand-off's cost."""
        started = time.perf_counter()
        try:
            result = func(*args)
        finally:
            took = time.perf_counter() - started
            if group is not None:
                self._record(group, took)
        return result, took

    def timed(self, group: Group | None, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)``, its time recorded for ``group`` (also when it raises)."""
        return self.measured(group, func, *args)[0]

    def _record(self, group: Group, seconds: float) -> None:
        average = self._average.get(group)
        if average is None and len(self._average) >= MAX_GROUPS:
            self._average.clear()
        self._average[group] = seconds if average is None else (
            average + NEWEST * (seconds - average)
        )


class SearchThreads:
    """The searches that do not run inline: at most ``count`` at once per process, on
    ``count`` threads of their own, in the order they came.

    Not anyio's ``to_thread.run_sync`` with a capacity limiter, nor an executor: measured
    on the 2-core VM (a no-op function, 3,000 hand-offs, load average 14), a hand-off and
    its answer cost the event loop 203 µs wall / 53 µs CPU through anyio, 123 / 35 through
    ``loop.run_in_executor`` (a ``concurrent.futures`` future, its lock and the chained
    asyncio future) and 65 / 17 here: a job goes to an idle thread through a
    ``SimpleQueue``, its answer comes back with one ``call_soon_threadsafe``.

    A thread is given its next job by the event loop, when the loop takes the answer of
    its last one, never straight from a backlog: a thread that went on from one search to
    the next would hold the GIL while the loop waits to send the answers and read the
    requests (one switch interval at a time: 5 ms then, sift/server.py now sets 1 ms):
    0.68-0.73x main's searches per second at 64 connections in two runs of the paired
    benchmark, 1.25 and 1.60x once changed.
    anyio's limiter hands its token back on the loop in the same way. The caller's context
    variables go along, as with anyio. A search whose request is cancelled while it waits
    is dropped; one already running finishes, its answer dropped.

    An idle thread is given a search last in, first out: the thread that answered last
    takes the next one, so searches one after the other run on one thread, and a second
    thread only works while the first is busy. Handed to whichever thread woke first
    (one shared queue), one client's searches alternated between the threads, each on
    its own malloc arena, and where that arena was shared (sift.tasks.memory) a 1M
    index's candidate-sized arrays were faulted in afresh at every search: the scale
    harness's 1M mix from one client took p99 26-28 ms of the search thread's CPU with
    ~210 minor faults per search (mean), 13-16 ms and 11-23 faults with this and 4
    arenas (docs/benchmarks/scale.md, "Scale", branch `p99w`).

    Once the searches stop (``trim_after_s`` with none running or finished on any
    thread), each thread that searched since its last trim calls ``trim``, once: the
    pages its arena kept for the next search go back to the system (~8-9 MiB of a
    drained soak's process with 4 arenas, which malloc_trim does not reach;
    docs/benchmarks/memory.md, "Memory over time", branch `arena2`). The first search
    after that faults its temporaries in again. A thread that did not search waits
    without a timeout: an idle server's threads do not wake."""

    def __init__(self, count: int, trim: Callable[[], object] | None = None,
                 trim_after_s: float = TRIM_AFTER_S) -> None:
        self._waiting: collections.deque[Job] = collections.deque()  # for an idle thread
        # Each thread's own queue; the idle ones' as a stack, the latest to finish on top.
        self._queues: list[queue.SimpleQueue[Job | None]] = [
            queue.SimpleQueue() for _ in range(max(1, count))
        ]
        self._idle = list(reversed(self._queues))  # the first thread on top
        self._trim, self._trim_after_s = trim, trim_after_s
        self._searching: set[int] = set()  # threads running a job (set: atomic add/discard)
        self._last_search = time.monotonic()  # when a job last ended, on any thread
        self._threads = [
            threading.Thread(target=self._work, args=(n, jobs), name=f"sift-search-{n}",
                             daemon=True)
            for n, jobs in enumerate(self._queues)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def idle(self) -> bool:
        """Whether a search given now starts at once (else it waits for a thread)."""
        return bool(self._idle)

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T] = loop.create_future()
        job = (loop, answer, contextvars.copy_context(), func, args)
        if self._idle:
            self._idle.pop().put(job)
        else:
            self._waiting.append(job)
        return await answer

    def _work(self, number: int, jobs: queue.SimpleQueue[Job | None]) -> None:
        searched = False  # since this thread last trimmed its arena
        while True:
            try:
                job = jobs.get(timeout=self._trim_after_s) if searched else jobs.get()
            except queue.Empty:
                if self._quiet():
                    searched = False
                    self._trim_own_arena()
                continue  # else another thread is searching: ask again after the delay
            if job is None:
                return
            searched = self._trim is not None
            self._searching.add(number)
            loop, answer, context, func, args = job
            try:
                result, error = context.run(func, *args), None
            except BaseException as exc:  # the caller's to raise, whatever it is
                result, error = None, exc
            finally:
                self._last_search = time.monotonic()
                self._searching.discard(number)
            # RuntimeError: the loop closed while the search ran (shutting down).
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._deliver, jobs, answer, result, error)
            del job, answer, result, error  # not kept while the thread waits for the next

    def _quiet(self) -> bool:
        """No search on any thread, none ended within ``trim_after_s``."""
        return (not self._searching
                and time.monotonic() - self._last_search >= self._trim_after_s)  # fmt: skip

    def _trim_own_arena(self) -> None:
        assert self._trim is not None
        try:
            self._trim()
        except Exception:  # a failed trim costs memory, never the thread
            log.exception("trimming a search thread's malloc arena failed")

    def _deliver(self, jobs: queue.SimpleQueue[Job | None], answer: asyncio.Future[Any],
                 result: Any, exc: BaseException | None) -> None:  # fmt: skip
        """On the event loop: a search's answer for its waiting request (unless that was
        cancelled), and the thread's next job."""
        while self._waiting:
            job = self._waiting.popleft()
            if not job[1].cancelled():
                jobs.put(job)
                break
        else:
            self._idle.append(jobs)
        if answer.cancelled():
            return
        if exc is not None:
            answer.set_exception(exc)
        else:
            answer.set_result(result)

    def close(self) -> None:
        """At shutdown: the searches given to a thread finish, then the threads end."""
        for jobs in self._queues:
            jobs.put(None)


Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", contextvars.Context,
            Callable[..., Any], tuple[Any, ...]]  # fmt: skip
