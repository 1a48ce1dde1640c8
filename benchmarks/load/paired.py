"""Sift from two (or more) source trees, and Typesense, measured side by side in one run.

`python -m benchmarks load` serves one engine at a time, which is right on a quiet machine
and misleading on a shared one: a burst of someone else's work lands on whichever server
is being measured. Here every server runs at once and the measurements alternate finely:

- single-client latency: every query (and the no-op request) is sent to each server in
  turn, the order rotating by query, so a burst falls on all of them alike;
- throughput: `wrk` levels (the typeahead mix and each Sift's no-op), the servers in a
  shuffled order per round, several short rounds; medians of the rounds are reported.

    python -m benchmarks.load.paired --tree before=/path/to/checkout --tree after=. \\
        --typesense --rounds 6

Each `--tree NAME=DIR` is served by `python -m sift serve` with `PYTHONPATH=DIR/src`
(the benchmark's own code comes from this checkout); `--serve-args NAME="FLAGS"` gives
that tree's server more flags, so one tree can be measured under two set-ups:

    python -m benchmarks.load.paired --tree uvicorn=. --tree granian=. \\
        --serve-args granian="--server granian" --typesense

and `--serve-env NAME="K=V ..."` environment variables for that tree's server (those
read at the process's start, such as GLIBC_TUNABLES or PYTHONMALLOC).

`--client raw` times the single-client requests with benchmarks/load/rawclient.py (one
write per request, no parsing beyond the framing) instead of httpx, whose own CPU is
~0.6-1 ms of every round trip on the 2-core VM: what is left is the servers' and the
kernel's. `--get NAME` sends that tree's searches in Meilisearch's query-string form (GET, no body),
the shape of Typesense's requests; `--tree post=. --tree get=. --get get` compares the two
forms on one tree. Results: a JSON file and a Markdown summary on stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shlex
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.collections import load_collection
from benchmarks.load.cpu import process_tree_cpu_s
from benchmarks.load.generator import run_wrk, write_requests
from benchmarks.load.queries import DEFAULT_SEED, query_sets
from benchmarks.load.rawclient import RawClient
from benchmarks.load.run import load_mixes
from benchmarks.load.servers import SiftServer, start_typesense
from benchmarks.load.targets import HttpTarget, Request

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS = REPO_ROOT / "benchmarks" / "results" / "tmp"  # git-ignored: the doc is edited on purpose
NOOP = "no-op"


def start_sift(
    tree: Path, docs: list[Any], workers: int, serve_args: list[str] | None = None,
    serve_env: dict[str, str] | None = None,
) -> tuple[SiftServer, HttpTarget]:  # fmt: skip
    """A server of ``tree``'s code: the child inherits PYTHONPATH (and ``serve_env``,
    e.g. GLIBC_TUNABLES, which must be in place when the process starts) at start."""
    env = {"PYTHONPATH": str(tree / "src"), **(serve_env or {})}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        server = SiftServer(serve_args=serve_args or [])
        server.start(1)
        server.index(docs)
        if workers != 1:
            server.start(workers)
            server.wait_documents(len(docs))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    assert server.target is not None
    return server, server.target


class HttpxClient:
    """httpx behind RawClient's interface: what an application's Python client sends."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=30)

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        answer = self._http.request(
            method, path, content=body or None,
            headers={"Content-Type": "application/json"} if body else None,
        )  # fmt: skip
        return answer.status_code, answer.content

    def close(self) -> None:
        self._http.close()


CLIENTS = {"httpx": HttpxClient, "raw": RawClient}


def interleaved_latency(
    targets: dict[str, HttpTarget], sets: dict[str, list[str]], pids: dict[str, int],
    cpu_us: dict[str, dict[str, float]], client: str = "httpx",
) -> dict[str, dict[str, list[float]]]:  # fmt: skip
    """Milliseconds per request, by kind and server; each query goes to every server.
    ``cpu_us`` gets each server's CPU µs per timed request, by kind (``pids``: whose);
    ``client``: a key of CLIENTS."""
    names = list(targets)
    clients = {n: CLIENTS[client](t.base_url, t.headers) for n, t in targets.items()}

    def send(name: str, request: Request) -> float:
        started = time.perf_counter()
        status, body = clients[name].request(request.method, request.path, request.body.encode())
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise RuntimeError(f"{name} {request.path}: {status} {body[:200]!r}")
        return elapsed

    batches = {k: [{n: targets[n].search_request(q) for n in names} for q in qs]
               for k, qs in sets.items()}  # fmt: skip
    batches[NOOP] = [{n: targets[n].noop_request() for n in names}] * len(sets["short"])
    times: dict[str, dict[str, list[float]]] = {k: {n: [] for n in names} for k in batches}
    try:
        for kind, batch in batches.items():
            for requests in batch[:20]:  # untimed: caches, connections
                for name in names:
                    send(name, requests[name])
            before = {n: process_tree_cpu_s(pids[n]) for n in names}
            for i, requests in enumerate(batch):
                for name in names[i % len(names):] + names[: i % len(names)]:
                    times[kind][name].append(send(name, requests[name]))
            for name in names:
                after, start = process_tree_cpu_s(pids[name]), before[name]
                if after is not None and start is not None:
                    cpu_us.setdefault(kind, {})[name] = (after - start) / len(batch) * 1e6
    finally:
        for client in clients.values():
            client.close()
    return times


def throughput_rounds(
    targets: dict[str, HttpTarget], mix: list[str], connections: list[int],
    rounds: int, duration_s: float, work: Path, pids: dict[str, int],
) -> list[dict[str, Any]]:  # fmt: skip
    runs = {n: {"search": [t.search_request(q) for q in mix]} for n, t in targets.items()}
    for name, target in targets.items():
        if target.kind == "sift":  # Typesense's /health is no equivalent under load
            runs[name]["noop"] = [target.noop_request()]
    files = {(n, e): write_requests(work / f"{n}-{e}.tsv", reqs)
             for n, by in runs.items() for e, reqs in by.items()}  # fmt: skip
    rows = []
    for number in range(rounds):
        order = list(targets)
        random.Random(number).shuffle(order)
        for level in connections:
            for name in order:
                for endpoint in runs[name]:
                    before = process_tree_cpu_s(pids[name])
                    row = run_wrk(targets[name], endpoint, files[name, endpoint], level, duration_s)
                    after = process_tree_cpu_s(pids[name])
                    cpu = None if before is None or after is None or not row.requests else (
                        (after - before) / row.requests * 1e6)  # fmt: skip
                    rows.append({"round": number, "target": name, "endpoint": endpoint,
                                 "connections": level, "rps": row.rps,
                                 "p50": row.latency_ms.get("p50"),
                                 "p99": row.latency_ms.get("p99"), "cpu_us": cpu})  # fmt: skip
    return rows


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def markdown(latency: dict[str, dict[str, list[float]]], rows: list[dict[str, Any]],
             names: list[str], cpu_us: dict[str, dict[str, float]]) -> str:  # fmt: skip
    lines = ["| queries | " + " | ".join(f"{n} p50 / p99 ms (CPU µs)" for n in names) + " |",
             "|---|" + "---:|" * len(names)]  # fmt: skip
    for kind, by in latency.items():
        cells = [f"{percentile(by[n], 0.5):.2f} / {percentile(by[n], 0.99):.2f}"
                 + (f" ({cpu_us[kind][n]:,.0f})" if n in cpu_us.get(kind, {}) else "")
                 for n in names]  # fmt: skip
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    keys = sorted({(r["endpoint"], r["connections"]) for r in rows}, key=lambda k: (k[0], k[1]))
    lines += ["", "| load | " + " | ".join(f"{n} req/s" for n in names) + " |",
              "|---|" + "---:|" * len(names)]  # fmt: skip
    for endpoint, level in keys:
        cells = []
        for name in names:
            rps = [r["rps"] for r in rows if (r["target"], r["endpoint"], r["connections"])
                   == (name, endpoint, level)]  # fmt: skip
            cpu = [r["cpu_us"] for r in rows if (r["target"], r["endpoint"], r["connections"])
                   == (name, endpoint, level) and r.get("cpu_us") is not None]  # fmt: skip
            cells.append((f"{statistics.median(rps):,.0f}" if rps else "")
                         + (f" ({statistics.median(cpu):,.0f})" if cpu else ""))  # fmt: skip
        lines.append(f"| {endpoint} c={level} | " + " | ".join(cells) + " |")
    lines.append("\nCPU µs: the server's CPU time (worker processes included) per request, "
                 "median of the rounds; the machine's load inflates it far less than latency.")
    return "\n".join(lines)


def parse_serve_env(specs: list[str]) -> dict[str, dict[str, str]]:
    """``--serve-env`` values (``NAME="K=V K2=V2"``) as each tree's variables."""
    by_tree: dict[str, dict[str, str]] = {}
    for spec in specs:
        name, _, assignments = spec.partition("=")
        for assignment in shlex.split(assignments):
            key, sep, value = assignment.partition("=")
            if not key or not sep:
                raise SystemExit(f"--serve-env {spec!r}: {assignment!r} is not KEY=VALUE")
            by_tree.setdefault(name, {})[key] = value
    return by_tree


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load.paired", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--tree", action="append", required=True, metavar="NAME=DIR")
    parser.add_argument("--serve-args", action="append", default=[], metavar='NAME="FLAGS"',
                        help="more `sift serve` flags for the tree NAME")  # fmt: skip
    parser.add_argument("--serve-env", action="append", default=[], metavar='NAME="K=V ..."',
                        help="environment variables for the tree NAME's server (set at its "
                             "start, e.g. GLIBC_TUNABLES=glibc.malloc.hugetlb=1)")  # fmt: skip
    parser.add_argument("--get", action="append", default=[], metavar="NAME",
                        help="that tree's searches in Meilisearch's GET form (query string, "
                             "no body), as Typesense's are sent; a tree may be given twice, "
                             "under two names, to compare the forms")
    parser.add_argument("--typesense", action="store_true")
    parser.add_argument("--client", choices=sorted(CLIENTS), default="httpx",
                        help="the single-client phase's HTTP client (raw: one write per "
                             "request, next to no client CPU)")
    parser.add_argument("--collection", type=Path, default=REPO_ROOT.parent / "shared/data/scifact")
    parser.add_argument("--queries", type=int, default=300, help="per kind")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=6, help="throughput rounds")
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per wrk level")
    parser.add_argument("--connections", default="1,4,16,64")
    parser.add_argument("--out", type=Path, default=RESULTS / "paired.json")
    parser.add_argument("--cache-dir", type=Path, default=REPO_ROOT / "benchmarks/.cache")
    args = parser.parse_args()
    data = load_collection(args.collection)
    sets = query_sets(list(data.queries.values()), args.queries, DEFAULT_SEED)
    extra = {n: shlex.split(f) for n, _, f in (a.partition("=") for a in args.serve_args)}
    env = parse_serve_env(args.serve_env)
    targets: dict[str, HttpTarget] = {}
    pids: dict[str, int] = {}
    closers = []
    try:
        for spec in args.tree:
            name, _, tree = spec.partition("=")
            server, target = start_sift(
                Path(tree).resolve(), data.docs, args.workers, extra.get(name), env.get(name)
            )
            closers.append(server.close)
            targets[name] = dataclasses.replace(
                target, name=name, query_string=name in args.get)
            pids[name] = server.pid
        if args.typesense:
            target, runner = start_typesense(args.cache_dir, data.docs)
            closers.append(runner.close)  # type: ignore[attr-defined]
            targets["typesense"] = target
            pids["typesense"] = runner.pid  # type: ignore[attr-defined]
        cpu_us: dict[str, dict[str, float]] = {}
        latency = interleaved_latency(targets, sets, pids, cpu_us, args.client)
        mix = load_mixes(sets, ["typeahead"], DEFAULT_SEED)["typeahead"]
        levels = [int(c) for c in args.connections.split(",") if c]
        with tempfile.TemporaryDirectory() as work:
            rows = throughput_rounds(
                targets, mix, levels, args.rounds, args.duration, Path(work), pids)
    finally:
        for close in closers:
            close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"load_average": os.getloadavg(), "client": args.client,
                                    "latency_ms": latency,
                                    "latency_cpu_us": cpu_us, "throughput": rows}))  # fmt: skip
    print(f"Single-client phase timed with the {args.client} client.\n")
    print(markdown(latency, rows, list(targets), cpu_us))
    print(f"\nload average at the end: {os.getloadavg()}; wrote {args.out}")


if __name__ == "__main__":
    main()
