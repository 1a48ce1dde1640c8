"""Where one search request's time goes inside Sift, without a server or a network.

    python -m benchmarks.load.breakdown [--collection DIR] [--queries N] [--rounds N]

The app is built in process on a fresh data directory, the collection (scifact by
default) indexed through it, then the paired benchmark's requests (the same short and
prefix queries, the same body: ``limit`` 10, ``attributesToRetrieve: ["id"]``) and its
no-op (``GET /version``) are sent as raw ASGI calls on a uvloop, one at a time. The
stages are timed by wrapping the functions that do them, so each line is the median of
that stage's own wall time per request:

- ``app``: the whole ASGI call (the hot lane, middleware, endpoint, response sent);
- ``authenticate``, ``json_body``: the key check and the body read and parsed;
- ``searched``: placement and the search, inline or on a search thread, and back;
- ``run_search``: tenant rules, parameters, analytics around the engine call;
- ``engine``: ``pipeline.search`` (matching, ranking, hits);
- ``build_hits``: the page's documents read, projected and formatted (part of engine);
- ``render``: the response's JSON encoding.

What the HTTP server (uvicorn's protocol, the socket) adds is the paired benchmark's
no-op round trip minus ``app`` for the no-op. Timings are medians of each round; compare
trees by running the command with each tree's ``src`` first on PYTHONPATH, alternated.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from benchmarks.collections import load_collection
from benchmarks.load.queries import DEFAULT_SEED, query_sets
from benchmarks.load.targets import SIFT_INDEX, TOP_K

REPO_ROOT = Path(__file__).resolve().parents[2]
MASTER = "a-breakdown-benchmark-master-key"
Timings = dict[str, list[float]]


def timed(owner: Any, name: str, label: str, into: Timings) -> None:
    """Replace ``owner.name`` by a wrapper adding its wall time per call to ``into``."""
    wrap_timed(owner, name, lambda started, ended: into[label].append(ended - started))


def wrap_timed(owner: Any, name: str, record: Callable[[float, float], None]) -> None:
    """Replace ``owner.name`` (a function or a coroutine function) by a wrapper that calls
    ``record(started, ended)`` (``time.perf_counter``) after each call, in its thread."""
    func = getattr(owner, name)
    if asyncio.iscoroutinefunction(func):

        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await func(*args, **kwargs)
            finally:
                record(started, time.perf_counter())
    else:

        def wrapper(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                record(started, time.perf_counter())

    setattr(owner, name, wrapper)


def instrument(into: Timings) -> None:
    from sift.engine.pipeline import respond
    from sift.http import responses
    from sift.http.routes import search

    # The hot lane finds its endpoints by identity: search_post itself stays as it is.
    for name in ("authenticate", "json_body", "searched", "run_search"):
        timed(search, name, name, into)
    timed(search.pipeline, "search", "engine", into)
    timed(respond, "build_hits", "build_hits", into)
    timed(responses.JSONResponse, "render", "render", into)


def asgi_caller(app: Any) -> Callable[..., Any]:
    headers = [(b"authorization", f"Bearer {MASTER}".encode()), (b"host", b"bench")]

    async def call(method: str, path: str, body: bytes = b"",
                   content_type: bytes = b"application/json") -> tuple[int, bytes]:  # fmt: skip
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": path,
                 "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": [*headers, (b"content-type", content_type)],
                 "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 7700)}  # fmt: skip
        received = False
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            nonlocal received
            if received:
                await asyncio.Event().wait()  # no disconnect while the request runs
            received = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    return call


async def measure(collection: Path, count: int, rounds: int) -> dict[str, Any]:
    from sift.app import create_app
    from sift.config import load_config

    data = load_collection(collection)
    sets = query_sets(list(data.queries.values()), count, DEFAULT_SEED)
    stages: Timings = collections.defaultdict(list)
    instrument(stages)
    config = {"data_dir": tempfile.mkdtemp(prefix="bench-breakdown-"), "master_key": MASTER}
    app = create_app(load_config(config, environ={}))
    call = asgi_caller(app)
    out: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        await call("POST", "/indexes", orjson.dumps({"uid": SIFT_INDEX, "primaryKey": "id"}))
        ndjson = b"\n".join(orjson.dumps({"id": d.id, "title": d.title, "text": d.text})
                            for d in data.docs)  # fmt: skip
        _, answer = await call("POST", f"/indexes/{SIFT_INDEX}/documents", ndjson,
                               b"application/x-ndjson")  # fmt: skip
        task = orjson.loads(answer)["taskUid"]
        while orjson.loads((await call("GET", f"/tasks/{task}"))[1])["status"] in (
            "enqueued", "processing"
        ):  # fmt: skip
            await asyncio.sleep(0.1)
        kinds = {kind: [json.dumps({"q": q, "limit": TOP_K, "attributesToRetrieve": ["id"]})
                        .encode() for q in sets[kind]] for kind in ("short", "prefix")}  # fmt: skip
        kinds["no-op"] = [b""] * count
        for kind, bodies in kinds.items():
            for body in bodies[:20]:  # untimed
                await send_one(call, kind, body)
            for _ in range(rounds):
                stages.clear()
                cpu = time.process_time()
                for body in bodies:
                    started = time.perf_counter()
                    await send_one(call, kind, body)
                    stages["app"].append(time.perf_counter() - started)
                stages["CPU per request"] = [(time.process_time() - cpu) / len(bodies)]
                for stage, values in stages.items():
                    out.setdefault(kind, {}).setdefault(stage, []).append(
                        statistics.median(values) * 1e6)
    return out


async def send_one(call: Callable[..., Any], kind: str, body: bytes) -> None:
    if kind == "no-op":
        status, answer = await call("GET", "/version")
    else:
        status, answer = await call("POST", f"/indexes/{SIFT_INDEX}/search", body)
    if status != 200:
        raise RuntimeError(f"{kind}: {status} {answer[:200]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load.breakdown", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--collection", type=Path, default=REPO_ROOT.parent / "shared/data/scifact")
    parser.add_argument("--queries", type=int, default=300, help="per kind")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import uvloop

    result = uvloop.run(measure(args.collection, args.queries, args.rounds))
    order = ("app", "authenticate", "json_body", "searched", "run_search", "engine",
             "build_hits", "render", "CPU per request")  # fmt: skip
    print("| stage (median µs per request, per round) | " + " | ".join(result) + " |")
    print("|---|" + "---:|" * len(result))
    for stage in order:
        cells = [" / ".join(f"{v:.0f}" for v in result[k][stage]) if stage in result[k] else ""
                 for k in result]  # fmt: skip
        print(f"| {stage} | " + " | ".join(cells) + " |")
    print(f"\nload average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
