"""python -m benchmarks.limits_cost [--rounds N] [--requests N]: what rate limits add to a
no-op request (`GET /version`) and to a search, through the ASGI app in process.

One app per configuration, each with 2,000 scifact documents: limits off; the defaults
(the failed-authentication gate only); every limit on in memory; and, when 127.0.0.1:6379
answers, the defaults and every limit with Redis (its keys under a prefix of this run,
deleted afterwards).
The quotas are too large to refuse anything, so each request pays the full bookkeeping:
the gate's look-up, a token per address and one per key. Requests use an API key (the
master key is never limited) and rotate over the configurations, which goes first
rotating too, so machine noise hits them alike. Each round reports every configuration's
p50; the table shows the median of the rounds, and the median of each round's ratio to
`off` in that round.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from benchmarks.engine_speed.corpus import scifact_corpus

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
MASTER = "a-limits-cost-benchmark-master-key"
REDIS = "redis://127.0.0.1:6379/0"
NEVER_EMPTY = "1000000/s burst 1000000"


def configurations(redis_prefix: str) -> dict[str, dict[str, Any]]:
    every = {"rate_limit_per_address": NEVER_EMPTY, "rate_limit_per_key": NEVER_EMPTY,
             "rate_limit_auth_failures": NEVER_EMPTY}  # fmt: skip
    found = {
        "off": {"rate_limit_auth_failures": "off"},
        "defaults": {},
        "all, memory": every,
    }
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_timeout=1).ping()
        shared = {"redis_url": REDIS, "redis_prefix": redis_prefix}
        found["defaults, Redis"] = shared
        found["all, Redis"] = {**every, **shared}
    except Exception as exc:  # no Redis here: that row is left out, saying why
        print(f"no Redis at {REDIS} ({exc.__class__.__name__}): its row is left out")
    return found


def _start(stack: ExitStack, settings: dict[str, Any], corpus: Any) -> tuple[Any, dict]:
    from starlette.testclient import TestClient

    from sift.app import create_app
    from sift.config import load_config

    values = {"data_dir": tempfile.mkdtemp(), "master_key": MASTER, "no_analytics": True,
              "config_file": os.devnull, **settings}  # fmt: skip
    client = stack.enter_context(TestClient(create_app(load_config(values, environ={}))))
    master = {"Authorization": f"Bearer {MASTER}"}
    client.post("/indexes", json={"uid": "bench", "primaryKey": "id"}, headers=master)
    body = b"\n".join(orjson.dumps(doc) for doc in corpus.docs)
    headers = {**master, "Content-Type": "application/x-ndjson"}
    task = client.post("/indexes/bench/documents", content=body, headers=headers).json()
    while client.get(f"/tasks/{task['taskUid']}", headers=master).json()["status"] in (
        "enqueued", "processing"
    ):  # fmt: skip
        time.sleep(0.05)
    key = client.post(
        "/keys", json={"actions": ["search", "version"], "indexes": ["bench"], "expiresAt": None},
        headers=master,
    ).json()["key"]  # fmt: skip
    return client, {"Authorization": f"Bearer {key}"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.limits_cost")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=500, help="of each kind, per round")
    args = parser.parse_args(argv)
    corpus = scifact_corpus(SCIFACT, args.requests, 42, 2000)
    prefix = f"sift-bench-{uuid.uuid4().hex[:12]}"
    configs = configurations(prefix)
    names = list(configs)
    print(f"load before: {os.getloadavg()[0]:.2f}")
    kinds = ("no-op", "search")
    p50s: dict[tuple[str, str], list[float]] = {(n, k): [] for n in names for k in kinds}
    try:
        with ExitStack() as stack:
            apps = {name: _start(stack, settings, corpus) for name, settings in configs.items()}
            for client, key in apps.values():  # warm every path once
                client.get("/version", headers=key)
                client.post("/indexes/bench/search", json={"q": "cell"}, headers=key)
            for round_no in range(args.rounds):
                times: dict[tuple[str, str], list[float]] = {key: [] for key in p50s}
                for i, q in enumerate(corpus.queries):
                    turn = (i + round_no) % len(names)
                    for name in names[turn:] + names[:turn]:
                        client, key = apps[name]
                        began = time.perf_counter()
                        client.get("/version", headers=key)
                        middle = time.perf_counter()
                        found = client.post(
                            "/indexes/bench/search", json={"q": q, "limit": 20}, headers=key
                        )
                        ended = time.perf_counter()
                        assert found.status_code == 200, found.text
                        times[(name, "no-op")].append((middle - began) * 1e3)
                        times[(name, "search")].append((ended - middle) * 1e3)
                for cell, values in times.items():
                    p50s[cell].append(float(np.percentile(values, 50)))
                print(f"round {round_no + 1}: " + ", ".join(
                    f"{n} {p50s[(n, 'no-op')][-1]:.3f}/{p50s[(n, 'search')][-1]:.3f}"
                    for n in names
                ) + " ms (no-op/search p50)", flush=True)  # fmt: skip
    finally:
        if "defaults, Redis" in configs:
            import redis

            client = redis.Redis.from_url(REDIS)
            for stored in client.scan_iter(match=f"{prefix}:*"):
                client.delete(stored)
    print(f"load after: {os.getloadavg()[0]:.2f}")
    print(f"\nmedian of {args.rounds} rounds' p50, {args.requests} requests of each kind a round;")
    print("ratio: the median over rounds of p50 / p50 without limits in the same round")
    print("| limits | no-op p50 ms | ratio | search p50 ms | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name in names:
        cells = []
        for kind in kinds:
            ratios = np.array(p50s[(name, kind)]) / np.array(p50s[("off", kind)])
            cells += [f"{np.median(p50s[(name, kind)]):.3f}", f"{np.median(ratios):.3f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")

if __name__ == "__main__":
    main()
