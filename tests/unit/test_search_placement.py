"""Searches run inline only while searches like them stay within the budget."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sift.http.search_placement import (
    MAX_GROUPS,
    MAX_HANDOFF_INLINE_S,
    PROBE_EVERY,
    SearchPlacement,
    group_of,
)


def test_a_group_runs_on_a_thread_until_its_searches_have_been_timed() -> None:
    placement = SearchPlacement(0.001)
    group = group_of("books", {"q": "dune"})
    assert not placement.inline(group)
    assert placement.timed(group, lambda a, b: a + b, 1, 2) == 3
    assert placement.inline(group)


def test_a_slow_search_moves_its_group_off_the_loop_and_quick_ones_bring_it_back() -> None:
    placement = SearchPlacement(0.001)
    group = group_of("books", {"q": "dune"})
    placement._record(group, 0.0002)
    placement._record(group, 0.010)  # one slow search is enough
    assert not placement.inline(group)
    for _ in range(20):
        placement._record(group, 0.0002)
    assert placement.inline(group)


def test_a_search_that_fails_is_timed_too() -> None:
    placement = SearchPlacement(0.001)
    group = group_of("books", {"q": "dune"})

    def fail() -> None:
        raise ValueError("bad filter")

    with pytest.raises(ValueError):
        placement.timed(group, fail)
    assert placement.inline(group)


def test_a_search_quicker_than_a_recent_hand_off_runs_inline_but_for_probes() -> None:
    placement = SearchPlacement(0.001)
    group = group_of("books", {"q": "dune"})
    placement._record(group, 0.002)  # over the budget
    assert not placement.inline(group)
    for _ in range(20):
        placement.handed_off(0.004)  # beside events: a thread's round trip costs more
    decisions = [placement.inline(group) for _ in range(4 * PROBE_EVERY)]
    assert decisions.count(False) == 4  # one in PROBE_EVERY measures the hand-off again
    for _ in range(40):
        placement.handed_off(0.0002)  # the load went: the probes bring the cost down
    assert not placement.inline(group)


def test_the_hand_off_never_keeps_a_slow_search_on_the_loop() -> None:
    placement = SearchPlacement(0.001)
    group = group_of("books", {"q": "dune"})
    placement._record(group, MAX_HANDOFF_INLINE_S * 1.5)
    for _ in range(20):
        placement.handed_off(MAX_HANDOFF_INLINE_S * 3)
    assert not any(placement.inline(group) for _ in range(PROBE_EVERY))


def test_measured_gives_the_answer_and_its_time_and_records_the_group() -> None:
    placement = SearchPlacement(0.001)
    group = group_of("books", {"q": "dune"})
    answer, took = placement.measured(group, lambda a, b: a + b, 1, 2)
    assert answer == 3 and 0 <= took < 1
    assert placement.inline(group)


def test_groups_separate_what_changes_the_cost() -> None:
    base = group_of("books", {"q": "dune"})
    assert group_of("books", {"q": "emma"}) == base  # same shape, another word
    for other in (
        group_of("films", {"q": "dune"}),
        group_of("books", {"q": "dune messiah"}),
        group_of("books", {"q": "dune", "filter": "year > 1960"}),
        group_of("books", {"q": "dune", "facets": ["genre"]}),
        group_of("books", {"q": "dune", "sort": ["year:asc"]}),
        group_of("books", {"q": "dune", "limit": 1000}),
    ):
        assert other != base


def test_vector_and_network_searches_always_run_on_a_thread() -> None:
    placement = SearchPlacement(1.0)
    for body in ({"q": "dune", "hybrid": {"embedder": "e"}}, {"vector": [0.1]},
                 {"q": "dune", "useNetwork": True}):  # fmt: skip
        group = group_of("books", body)
        assert group is None
        placement.timed(group, lambda: None)
        assert not placement.inline(group)


def test_a_zero_budget_sends_everything_to_a_thread() -> None:
    placement = SearchPlacement(0.0)
    group = group_of("books", {"q": "dune"})
    placement._record(group, 0.0)
    assert not placement.inline(group)


def test_the_groups_kept_are_bounded() -> None:
    placement = SearchPlacement(0.001)
    for n in range(MAX_GROUPS + 1):
        placement._record(group_of(f"index{n}", {}), 0.0)
    assert len(placement._average) <= MAX_GROUPS



async def test_search_threads_answer_raise_and_keep_the_callers_context() -> None:
    import asyncio
    import contextvars
    import threading

    from sift.http.search_placement import SearchThreads

    caller = contextvars.ContextVar("caller", default="none")
    caller.set("request 7")
    threads = SearchThreads(2)
    try:
        seen = await threads.run(lambda: (caller.get(), threading.current_thread().name))
        assert seen[0] == "request 7" and seen[1].startswith("sift-search-")

        def fails() -> None:
            raise ValueError("bad filter")

        with pytest.raises(ValueError, match="bad filter"):
            await threads.run(fails)
        # At most two at once: the third waits for a thread.
        running, most = 0, 0
        lock = threading.Lock()

        def slow() -> None:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            threading.Event().wait(0.05)
            with lock:
                running -= 1

        await asyncio.gather(*(threads.run(slow) for _ in range(5)))
        assert most == 2
    finally:
        threads.close()


async def test_searches_one_after_the_other_run_on_the_same_thread() -> None:
    import asyncio
    import threading

    from sift.http.search_placement import SearchThreads

    threads = SearchThreads(2)
    try:
        names = [await threads.run(lambda: threading.current_thread().name) for _ in range(8)]
        # The thread that answered last takes the next search (its malloc arena is warm):
        # a shared queue handed them to both threads in turn.
        assert names == [names[0]] * 8
        gate = threading.Event()
        busy = asyncio.ensure_future(threads.run(gate.wait))
        await asyncio.sleep(0.01)
        other = await threads.run(lambda: threading.current_thread().name)
        assert other != names[0]  # the second thread works while the first is busy
        gate.set()
        await busy
    finally:
        threads.close()


async def test_a_cancelled_waiting_search_is_dropped_and_its_turn_passes_on() -> None:
    import asyncio
    import threading

    from sift.http.search_placement import SearchThreads

    threads = SearchThreads(1)
    release = threading.Event()
    ran: list[str] = []
    try:
        first = asyncio.ensure_future(threads.run(lambda: release.wait(5) and ran.append("a")))
        second = asyncio.ensure_future(threads.run(lambda: ran.append("b")))
        third = asyncio.ensure_future(threads.run(lambda: ran.append("c")))
        await asyncio.sleep(0.05)
        second.cancel()
        release.set()
        await asyncio.gather(first, third)
        assert ran == ["a", "c"] and second.cancelled()
        assert await threads.run(lambda: "again") == "again"  # the thread is free again
    finally:
        threads.close()


async def test_search_threads_say_whether_a_search_would_start_at_once() -> None:
    import asyncio
    import threading

    from sift.http.search_placement import SearchThreads

    threads = SearchThreads(1)
    try:
        gate = threading.Event()
        assert threads.idle
        busy = asyncio.ensure_future(threads.run(gate.wait))
        await asyncio.sleep(0)
        assert not threads.idle  # a search given now would wait for the thread
        gate.set()
        await busy
        assert threads.idle
    finally:
        threads.close()



async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_search_threads_trim_their_arena_once_the_searches_stop() -> None:
    import asyncio
    import threading

    from sift.http.search_placement import SearchThreads

    trims: list[tuple[str, float]] = []
    threads = SearchThreads(
        2, trim=lambda: trims.append((threading.current_thread().name, loop.time())),
        trim_after_s=1.0)  # fmt: skip
    loop = asyncio.get_running_loop()
    try:
        # A burst: a search every 20 ms for 2 s, each far quicker than the delay. A
        # thread trimming in it would hand back the pages the next search reuses.
        name = await threads.run(lambda: threading.current_thread().name)
        began = loop.time()
        while loop.time() - began < 2.0:
            await asyncio.sleep(0.02)
            await threads.run(lambda: None)
        assert trims == []
        last = loop.time()
        # Then quiet: the thread that searched trims once, the delay after the last
        # search; the one that never searched does not wake for it.
        await _until(lambda: len(trims) == 1)
        assert trims[0][0] == name and trims[0][1] - last >= 0.9
        await asyncio.sleep(1.5)
        assert len(trims) == 1  # no search since: nothing more to hand back
        await threads.run(lambda: None)
        await _until(lambda: len(trims) == 2)
        assert trims[1][0] == name
    finally:
        threads.close()


async def test_an_idle_search_thread_waits_while_another_one_searches() -> None:
    import asyncio
    import threading

    from sift.http.search_placement import SearchThreads

    trims: list[str] = []
    threads = SearchThreads(2, trim=lambda: trims.append(threading.current_thread().name),
                            trim_after_s=0.1)  # fmt: skip
    try:
        gate = threading.Event()
        busy = asyncio.ensure_future(threads.run(gate.wait))  # a long search on one thread
        await asyncio.sleep(0.01)
        await threads.run(lambda: None)  # a quick one on the other
        await asyncio.sleep(0.5)
        assert trims == []  # a search still runs: the quick one's thread waits for it
        gate.set()
        await busy
        await _until(lambda: len(trims) == 2)
        assert sorted(trims) == ["sift-search-0", "sift-search-1"]
    finally:
        threads.close()


async def test_a_failing_trim_leaves_the_search_thread_working() -> None:
    import asyncio

    from sift.http.search_placement import SearchThreads

    tried = asyncio.Event()
    loop = asyncio.get_running_loop()

    def trim() -> None:
        loop.call_soon_threadsafe(tried.set)
        raise OSError("no libc")

    threads = SearchThreads(1, trim=trim, trim_after_s=0.05)
    try:
        await threads.run(lambda: None)
        await asyncio.wait_for(tried.wait(), 10)
        assert await threads.run(lambda: "still here") == "still here"
    finally:
        threads.close()
