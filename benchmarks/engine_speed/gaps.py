"""`python -m benchmarks.engine_speed.gaps [GAP ...]`: a first-sight search's thread CPU in
process after what a server does between two searches, against none.

    python -m benchmarks.engine_speed.gaps none sleep300 spin300 pong300 write1024 thread

Each gap comes before a search, outside its time: ``none``; ``sleepN``: the thread sleeps
N µs; ``spinN``: it spins N µs, keeping its core; ``pongN``: a socket round trip to
another process that works N µs before answering (what a single client's request does to
the server's core); ``writeN``: N KiB of memory written (the data caches and the TLB
evicted); ``thread``: no gap, the search run on another thread. Every query of the load
test's short and prefix sets (scifact, `benchmarks.load.queries`) is searched once per
gap, the gaps rotated query by query so a shared machine's noise falls on all alike, its
caches emptied first (as ``benchmarks.engine_speed.paired --first-sight``). Prints each
gap's median CPU and wall µs and the median of its per-query CPU ratios to the first gap.
It showed that a search's context, not the server process, is why the engine costs more
in `sift serve` than in process (docs/benchmarks/speed.md, "Why a first-sight search
costs more inside the server than in process").
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from benchmarks.engine_speed.paired import SCIFACT, forget_queries

KINDS = ("short", "prefix")


def _answer_after(sock: socket.socket, work_us: float) -> None:
    """The other process of ``pongN``: answers each byte after ``work_us`` of its own work."""
    while sock.recv(1):
        end = time.perf_counter() + work_us * 1e-6
        while time.perf_counter() < end:
            pass
        sock.send(b"x")


def make_gap(name: str) -> Callable[[], None]:
    """What ``name`` does before a search (module docstring)."""
    for prefix in ("sleep", "spin", "pong", "write"):
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            amount = int(name[len(prefix):])
            break
    else:
        if name in ("none", "thread"):
            return lambda: None
        raise ValueError(f"unknown gap {name!r}")
    if prefix == "sleep":
        return lambda: time.sleep(amount * 1e-6)
    if prefix == "spin":

        def spin() -> None:
            end = time.perf_counter() + amount * 1e-6
            while time.perf_counter() < end:
                pass

        return spin
    if prefix == "write":
        buffer = np.zeros(amount << 10, np.uint8)

        def write() -> None:
            buffer[:] += 1

        return write
    ours, theirs = socket.socketpair()
    multiprocessing.Process(target=_answer_after, args=(theirs, amount), daemon=True).start()

    def pong() -> None:
        ours.send(b"x")
        ours.recv(1)

    return pong


def measure(collection: Path, gaps: list[str], queries: int, rounds: int
            ) -> dict[str, tuple[list[float], list[float]]]:
    """Per gap, every search's (CPU µs, wall µs)."""
    before = {name: make_gap(name) for name in gaps}  # an unknown name fails before indexing
    from benchmarks.collections import load_collection
    from benchmarks.load.queries import DEFAULT_SEED, query_sets
    from sift.engine.index import SearchIndex
    from sift.engine.query import SearchParams
    from sift.engine.settings import with_defaults

    data = load_collection(collection)
    sets = query_sets(list(data.queries.values()), queries, DEFAULT_SEED)
    index = SearchIndex(with_defaults({}), "id")
    docs = [(d.id, {"id": d.id, "title": d.title, "text": d.text}) for d in data.docs]
    for start in range(0, len(docs), 5000):  # as benchmarks.engine_speed.paired
        index.upsert(docs[start:start + 5000])
    index.optimize()

    def timed(q: str) -> tuple[float, float]:
        cpu, wall = time.thread_time(), time.perf_counter()
        index.search(SearchParams.from_dict({"q": q, "limit": 10, "attributesToRetrieve": ["id"]}))
        return (time.thread_time() - cpu) * 1e6, (time.perf_counter() - wall) * 1e6

    pool = ThreadPoolExecutor(1)
    for q in sets["prefix"][:50]:  # warm-up: kernels, both threads
        timed(q)
        pool.submit(timed, q).result()
    out: dict[str, tuple[list[float], list[float]]] = {g: ([], []) for g in gaps}
    for _ in range(rounds):
        for kind in KINDS:
            for n, q in enumerate(sets[kind]):
                for name in gaps[n % len(gaps):] + gaps[:n % len(gaps)]:
                    forget_queries(index.view.snapshot)
                    before[name]()
                    cpu, wall = pool.submit(timed, q).result() if name == "thread" else timed(q)
                    out[name][0].append(cpu)
                    out[name][1].append(wall)
    pool.shutdown()
    return out


def report(results: dict[str, tuple[list[float], list[float]]]) -> list[str]:
    first = next(iter(results))
    lines = []
    for name, (cpu, wall) in results.items():
        ratio = statistics.median(a / b for a, b in zip(cpu, results[first][0], strict=True))
        lines.append(f"{name:10s} cpu p50 {statistics.median(cpu):6.0f}  wall p50 "
                     f"{statistics.median(wall):6.0f}  cpu / {first} per query {ratio:.2f}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engine_speed.gaps",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gaps", nargs="*", default=["none", "sleep300", "spin300", "pong300"])
    parser.add_argument("--collection", type=Path, default=SCIFACT)
    parser.add_argument("--queries", type=int, default=300, help="per kind")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    for line in report(measure(args.collection, args.gaps, args.queries, args.rounds)):
        print(line)
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
