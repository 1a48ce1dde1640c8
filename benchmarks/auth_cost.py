"""python -m benchmarks.auth_cost [--queries N]: what a search costs with an API key (as a
website sends it) and with a tenant token signed by it, against the master key, through
the ASGI app in process.

2,000 scifact documents in a fresh data directory; the same queries rotate over the three
credentials (which goes first rotates too), so machine noise hits them alike. Prints the
p50 and p99 of each in milliseconds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import jwt
import numpy as np
import orjson

from benchmarks.engine_speed.corpus import scifact_corpus

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
MASTER = "an-auth-cost-benchmark-master-key"


def main(argv: list[str] | None = None) -> None:
    from starlette.testclient import TestClient

    from sift.app import create_app
    from sift.config import load_config

    parser = argparse.ArgumentParser(prog="python -m benchmarks.auth_cost")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args(argv)
    corpus = scifact_corpus(SCIFACT, args.queries, 42, 2000)
    config = {"data_dir": tempfile.mkdtemp(), "master_key": MASTER, "no_analytics": True}
    app = create_app(load_config(config, environ={}))
    master = {"Authorization": f"Bearer {MASTER}"}
    with TestClient(app) as client:
        client.post("/indexes", json={"uid": "bench", "primaryKey": "id"}, headers=master)
        body = b"\n".join(orjson.dumps(doc) for doc in corpus.docs)
        task = client.post(
            "/indexes/bench/documents",
            content=body,
            headers={**master, "Content-Type": "application/x-ndjson"},
        ).json()["taskUid"]
        while client.get(f"/tasks/{task}", headers=master).json()["status"] in (
            "enqueued", "processing"
        ):
            time.sleep(0.05)
        created = client.post(
            "/keys", json={"actions": ["search"], "indexes": ["bench"], "expiresAt": None},
            headers=master,
        ).json()  # fmt: skip
        tenant = jwt.encode(
            {"apiKeyUid": created["uid"], "searchRules": {"bench": None}}, created["key"]
        )
        credentials = [
            ("master key", master),
            ("search API key", {"Authorization": f"Bearer {created['key']}"}),
            ("tenant token", {"Authorization": f"Bearer {tenant}"}),
        ]
        times: dict[str, list[float]] = {name: [] for name, _ in credentials}
        for i, q in enumerate(corpus.queries * 2):
            turn = i % len(credentials)
            for name, headers in credentials[turn:] + credentials[:turn]:
                began = time.perf_counter()
                client.post("/indexes/bench/search", json={"q": q, "limit": 20}, headers=headers)
                times[name].append((time.perf_counter() - began) * 1000)
    for name, values in times.items():
        p50, p99 = np.percentile(values, [50, 99])
        print(f"{name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms ({len(values)} searches)")


if __name__ == "__main__":
    main()
