"""One search over HTTP from a single client, its time split between the client, uvicorn,
the app and the engine, for one tree's `sift serve` (one worker, scifact by default).

    python -m benchmarks.load.timeline [--tree DIR] [--collection DIR] [--queries N]
                                       [--client httpx|raw] [--repeat] [--gap-us N]

The server runs in a child process started by this module (``serve`` mode below), which
wraps uvicorn's protocol (``data_received``: the request's bytes arrive; the answer's
last ``send`` handed to uvicorn, which writes it to the socket at once) and the app's
stages (with benchmarks/load/breakdown.py's wrapper) with timestamps. The client sends the
paired benchmark's short and prefix queries and its no-op once each, as its latency
phase does, and keeps each request's start and end. Both sides read
``time.perf_counter`` (CLOCK_MONOTONIC, one clock for every process of the machine), so
each request's server events fall between its client start and end:

- ``client -> recv``: the client's own work and the kernel until the head arrives;
- ``recv -> task``: uvicorn parsing the head and starting the request's task;
- ``task -> searched``: the middleware, authentication and the body (its wait included:
  httpx writes head and body apart, and they often arrive apart);
- ``hand-off``: ``searched`` minus ``run_search``: placement, and a thread's round trip
  when the search ran on one (``inline share``: the searches run on the event loop);
- ``searched -> sent``: the answer's JSON, the middleware's send, uvicorn's head;
- ``head write``: of which uvicorn's send of the head (the access line, the head's
  bytes, their ``write(2)``); ``head write preempted``: the share of requests whose loop
  thread was switched out involuntarily during it (``ru_nivcsw``, Linux): the write
  wakes the client, which the kernel may run on the server's core until it has read the
  head, while the body waits;
- ``sent -> client``: the kernel and the client until it has read the answer.

With ``--gap-us N`` the client sleeps N µs before each request: the server then idles
between requests, as in the paired benchmark, whose requests go to the other servers in
between (and as behind a user's keystrokes), instead of finding the next request at once.

The engine's stage also has the searching thread's CPU (``engine cpu``) and minor page
faults (``engine faults``, a count). With ``--repeat`` every search finds the snapshot's
word and query caches empty (as ``benchmarks.engine_speed.paired --first-sight``) and is
run once more at once, caches emptied again, outside every other stage's time: ``engine
cpu, repeated`` is what the same search costs in the same server process back to back,
so the two CPU rows tell the cost of a search's context (the request around it, the wait
for the next one) from that of the process (its allocator, kernels, index). The placement
(sift.http.search_placement) then sees each search take twice its time and sends more of
them to a thread: compare the inline rows (``engine cpu, repeated, inline``).

Then, for searches, the main stages' medians of those run inline beside those run on a
search thread (``total, inline ... on a thread``), when both happened.

Medians (and means) of each stage over the requests of a kind. Run it for two trees one
after the other; on a shared machine compare only runs made close together.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.load.breakdown import wrap_timed

REPO_ROOT = Path(__file__).resolve().parents[2]
Events = dict[str, list[list[float]]]
SHARES = ("inline share", "head write preempted")  # reported as the mean of 0s and 1s
REPEAT_ENV = "TIMELINE_REPEAT"  # --repeat, as the serving child reads it
COUNTS = ("engine faults",)  # reported as they are, not in µs
PLACED_STAGES = ("total", "server (recv -> sent)", "engine", "engine cpu",
                 "engine cpu, repeated", "hand-off")  # those a run has


def serve(argv: list[str]) -> None:
    """``sift serve`` in this process, its stages timestamped into $TIMELINE_EVENTS at exit."""
    events: Events = defaultdict(list)
    now = time.perf_counter

    def stamp(owner: Any, name: str, label: str) -> None:
        def record(started: float, ended: float) -> None:
            inline = threading.current_thread() is threading.main_thread()
            events[label].append([started, ended, float(inline)])

        wrap_timed(owner, name, record)

    from uvicorn.protocols.http import httptools_impl as uv

    from benchmarks.engine_speed.paired import forget_queries
    from sift.cli import main
    from sift.http.routes import search

    for name in ("authenticate", "json_body", "searched", "run_search"):
        stamp(search, name, name)
    engine = search.pipeline.search

    repeat = os.environ.get(REPEAT_ENV) == "1"

    def engine_costed(*args: Any, **kwargs: Any) -> Any:
        # Beside its wall time, the searching thread's CPU and minor page faults: whether
        # the engine waits (for a core, the GIL) or works more inside a server.
        if repeat:
            forget_queries(args[0].snapshot)
        began_cpu, began_faults = time.thread_time(), thread_faults()
        started = now()
        try:
            return engine(*args, **kwargs)
        finally:
            ended = now()
            cpu = time.thread_time() - began_cpu
            events["engine"].append([started, ended, cpu, float(thread_faults() - began_faults),
                                     again(args, kwargs)])

    def again(args: Any, kwargs: Any) -> float:
        """With --repeat: the same search's CPU once more at once, its caches emptied
        again: what it costs in this process back to back, as in process."""
        if not repeat:
            return 0.0
        forget_queries(args[0].snapshot)
        began = time.thread_time()
        engine(*args, **kwargs)
        return time.thread_time() - began

    search.pipeline.search = engine_costed  # type: ignore[attr-defined]
    received = uv.HttpToolsProtocol.data_received
    send = uv.RequestResponseCycle.send

    def data_received(self: Any, data: bytes) -> None:
        events["recv"].append([now()])
        received(self, data)

    def thread_faults() -> int:  # this thread's minor page faults so far (Linux)
        return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt

    def switched() -> int:  # the loop thread's involuntary context switches so far
        return resource.getrusage(resource.RUSAGE_THREAD).ru_nivcsw

    async def timed_send(self: Any, message: Any) -> None:
        # Stamped as the last body goes to uvicorn, which writes it to the socket before
        # its first await: after it, the client may already have read the answer.
        if message["type"] == "http.response.body" and not message.get("more_body"):
            events["sent"].append([now()])
        elif message["type"] == "http.response.start":
            before, started = switched(), now()
            await send(self, message)
            events["head"].append([started, now(), float(switched() > before)])
            return
        await send(self, message)

    uv.HttpToolsProtocol.data_received = data_received  # type: ignore[method-assign]
    uv.RequestResponseCycle.send = timed_send  # type: ignore[method-assign]
    stamp(uv.RequestResponseCycle, "run_asgi", "task")
    atexit.register(lambda: Path(os.environ["TIMELINE_EVENTS"]).write_text(json.dumps(events)))
    sys.argv = ["sift", "serve", *argv]
    main()


def measure(tree: Path, collection: Path, queries: int, client_name: str = "httpx",
            repeat: bool = False, gap_us: int = 0) -> tuple[Events, dict[str, list[list[float]]]]:
    import httpx

    from benchmarks.collections import load_collection
    from benchmarks.load.paired import CLIENTS, start_sift
    from benchmarks.load.queries import DEFAULT_SEED, query_sets
    from benchmarks.runners.server_process import free_port

    data = load_collection(collection)
    sets = query_sets(list(data.queries.values()), queries, DEFAULT_SEED)
    env = dict(os.environ, PYTHONPATH=f"{tree / 'src'}{os.pathsep}{REPO_ROOT}")
    indexer, target = start_sift(tree, data.docs, 1)  # indexed, then served by the child
    indexer.stop()
    port = free_port()
    with tempfile.TemporaryDirectory() as work:
        events_file = Path(work) / "events.json"
        child = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.load.timeline", "serve", "--port", str(port),
             "--data-dir", str(indexer._dir / "data"), "--master-key", indexer._key,
             "--workers", "1", "--log-level", "warning"],
            env={**env, "TIMELINE_EVENTS": str(events_file), REPEAT_ENV: str(int(repeat))},
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base_url}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            client = CLIENTS[client_name](base_url, target.headers)
            kinds = {k: [target.search_request(q) for q in sets[k]] for k in ("short", "prefix")}
            kinds["no-op"] = [target.noop_request()] * queries
            sent: dict[str, list[list[float]]] = {}
            for kind, requests in kinds.items():
                warm = requests[:20]  # untimed first, as the paired benchmark's
                spans = []
                for n, request in enumerate([*warm, *requests]):
                    if gap_us:  # the server idles, as between a paired run's requests
                        time.sleep(gap_us / 1e6)
                    started = time.perf_counter()
                    client.request(request.method, request.path, request.body.encode())
                    if n >= len(warm):
                        spans.append([started, time.perf_counter()])
                sent[kind] = spans
            client.close()
        finally:
            child.send_signal(signal.SIGTERM)
            child.wait(60)
            indexer.close()
        return json.loads(events_file.read_text()), sent


def stages(events: Events, start: float, end: float) -> dict[str, float] | None:
    """One request's stages (seconds), from the server's events within its client span."""

    def first(label: str, after: float = start) -> list[float] | None:
        return next((e for e in events.get(label, ()) if after <= e[0] <= end), None)

    recv, task = first("recv"), first("task")
    if recv is None or task is None:
        return None
    searched, run, engine = first("searched"), first("run_search"), first("engine")
    # The previous answer's send can return after this request began: the client read
    # the bytes as soon as they were written. This answer's comes after its search.
    sent = first("sent", searched[1] if searched is not None else task[0])
    if sent is None:
        return None
    row = {"total": end - start, "client -> recv": recv[0] - start,
           "recv -> task": task[0] - recv[0], "server (recv -> sent)": sent[0] - recv[0],
           "sent -> client": end - sent[0]}  # fmt: skip
    if searched is not None and run is not None and engine is not None:
        row.update({"task -> searched": searched[0] - task[0],
                    "searched": searched[1] - searched[0], "run_search": run[1] - run[0],
                    "engine": engine[1] - engine[0], "engine cpu": engine[2],
                    "engine faults": engine[3],
                    **({"engine cpu, repeated": engine[4]} if engine[4] else {}),
                    "hand-off": (searched[1] - searched[0]) - (run[1] - run[0]),
                    "searched -> sent": sent[0] - searched[1], "inline share": run[2]})  # fmt: skip
    head = first("head", searched[1] if searched is not None else task[0])
    if head is not None and head[0] <= sent[0]:
        row.update({"head write": head[1] - head[0], "head write preempted": head[2]})
    return row


def report(events: Events, sent: dict[str, list[list[float]]], out: Callable[[str], Any]) -> None:
    for kind, spans in sent.items():
        rows = [r for r in (stages(events, a, b) for a, b in spans) if r is not None]
        out(f"{kind} ({len(rows)} requests): median µs (mean)")
        for stage in rows[0] if rows else ():
            values = [r[stage] for r in rows if stage in r]
            if stage in SHARES:
                out(f"  {stage:24s} {statistics.mean(values):.2f}")
            elif stage in COUNTS:
                out(f"  {stage:24s} {statistics.median(values):7.0f} "
                    f"({statistics.mean(values):7.1f})")
            else:
                out(f"  {stage:24s} {statistics.median(values) * 1e6:7.0f} "
                    f"({statistics.mean(values) * 1e6:7.0f})")  # fmt: skip
        split = [[r["head write"] for r in rows if r.get("head write preempted") == flag]
                 for flag in (1.0, 0.0)]  # fmt: skip
        if all(split):
            out(f"  {'head write, preempted':24s} {statistics.median(split[0]) * 1e6:7.0f}"
                f"   not: {statistics.median(split[1]) * 1e6:.0f}")
        by_placement(rows, out)


def by_placement(rows: list[dict[str, float]], out: Callable[[str], Any]) -> None:
    """The main stages' medians of the searches run inline beside those run on a search
    thread, when both happened: what a thread's round trip cost a search end to end."""
    placed = [[r for r in rows if r.get("inline share") == flag] for flag in (1.0, 0.0)]
    if not all(placed):
        return
    for stage in (s for s in PLACED_STAGES if s in rows[0]):
        inline, thread = ([r[stage] for r in group] for group in placed)
        out(f"  {stage + ', inline':24s} {statistics.median(inline) * 1e6:7.0f}"
            f"   on a thread: {statistics.median(thread) * 1e6:.0f}")


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load.timeline",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, default=REPO_ROOT, help="the checkout served")
    parser.add_argument("--collection", type=Path, default=REPO_ROOT.parent / "shared/data/scifact")
    parser.add_argument("--queries", type=int, default=300, help="per kind")
    parser.add_argument("--client", choices=("httpx", "raw"), default="httpx",
                        help="raw: each request in one write, next to no client CPU "
                             "(benchmarks/load/rawclient.py)")
    parser.add_argument("--repeat", action="store_true",
                        help="every search at first sight, and once more at once: its "
                             "CPU in this process back to back")
    parser.add_argument("--gap-us", type=int, default=0,
                        help="the client sleeps this long before each request, so that the "
                             "server idles between requests (as between a paired run's, "
                             "which go to other servers in between)")
    args = parser.parse_args()
    events, sent = measure(args.tree.resolve(), args.collection, args.queries, args.client,
                           args.repeat, args.gap_us)
    if args.gap_us:
        print(f"an idle gap of {args.gap_us} µs before each request")
    report(events, sent, print)
    print(f"\nload average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
