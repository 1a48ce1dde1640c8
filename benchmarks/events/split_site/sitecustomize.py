"""Loaded by every Python process started with this folder first on PYTHONPATH (the
`sift serve` of `python -m benchmarks.events.split`): when $SPLIT_EVENTS_OUT is set, each
worker stamps every search (route entry and exit, the search's own start and end, its
thread's CPU and run-queue wait) and counts the events it parses, and writes them to
$SPLIT_EVENTS_OUT/<pid>.json every half second. One search client: a search's stamps go
to the newest record."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

OUT = os.environ.get("SPLIT_EVENTS_OUT")
records: list[dict[str, Any]] = []
parsed = [0]  # events parsed by this process


def _run_queue_ns() -> int:
    """This thread's time waiting for a core (schedstat's second field)."""
    with open(f"/proc/self/task/{threading.get_native_id()}/schedstat", "rb") as stat:
        return int(stat.read().split()[1])


def _patch() -> None:
    from sift.http.routes import events, search
    from sift.http.search_placement import SearchPlacement

    parse_event = events.parse_event

    def counted(*args: Any, **kwargs: Any) -> Any:
        parsed[0] += 1
        return parse_event(*args, **kwargs)

    events.parse_event = counted
    searched = search.searched

    async def stamped(*args: Any, **kwargs: Any) -> Any:
        record = {"t0": time.perf_counter(), "e0": parsed[0]}
        records.append(record)
        try:
            return await searched(*args, **kwargs)
        finally:
            record.update(t9=time.perf_counter(), e9=parsed[0])

    search.searched = stamped
    # Every placed search, inline or on a thread, runs through measured (timed calls it).
    measured = SearchPlacement.measured

    def measured_stamped(self: SearchPlacement, group: Any, func: Any, *args: Any) -> Any:
        record = records[-1] if records else {}
        queued, cpu = _run_queue_ns(), time.thread_time()
        record.update(t1=time.perf_counter(), e1=parsed[0],
                      inline=threading.current_thread() is threading.main_thread())  # fmt: skip
        try:
            return measured(self, group, func, *args)
        finally:
            record.update(t2=time.perf_counter(), e2=parsed[0], cpu=time.thread_time() - cpu,
                          runq=(_run_queue_ns() - queued) / 1e9)  # fmt: skip

    SearchPlacement.measured = measured_stamped  # type: ignore[method-assign]


def _dump() -> None:
    while True:
        time.sleep(0.5)
        path = f"{OUT}/{os.getpid()}.json"
        with open(path + ".tmp", "w") as out:
            json.dump({"records": list(records), "events": parsed[0]}, out)
        os.replace(path + ".tmp", path)


if OUT:
    try:
        _patch()
    except ImportError:  # a process without sift on its path
        pass
    else:
        threading.Thread(target=_dump, daemon=True).start()
