"""python -m benchmarks.rules_cost [--queries N] [--rules N]: what search rules cost a
search, through the ASGI app in process.

2,000 scifact documents in a fresh data directory, copied into three indexes searched in
turn query by query (which goes first rotates too) so machine noise hits them alike:
``plain``, which no rule names; ``ruled``, named by ``--rules`` rules (default 10,000)
keyed by words of the queries' vocabulary, each pinning one document and every tenth
also boosting ten, so that a typical query matches a few; and ``hidden``, named by the
same rules plus one that matches every search and hides 50 documents. Prints p50 and p99
in milliseconds, how many rules matched per search on average, and how long reloading
the rules after a change takes.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from benchmarks.engine_speed.corpus import scifact_corpus

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
MASTER = "a-rules-cost-benchmark-master-key"


RULED = ("ruled", "hidden")


def _rules(words: list[str], ids: list[str], count: int, rng: random.Random
           ) -> list[dict[str, Any]]:
    out = []
    for n in range(count):
        doc, position, boosted = rng.choice(ids), rng.randrange(5), rng.sample(ids, 10)
        actions: dict[str, Any] = {
            "pin": [{"id": doc, "position": position, "indexUid": uid} for uid in RULED],
            "scale": [],
        }
        if n % 10 == 0:
            actions["scale"] = [{"weight": 2.0, "ids": boosted, "filter": None,
                                 "indexUid": uid} for uid in RULED]
        out.append({"uid": f"r{n:06d}", "description": None, "precedence": n % 7,
                    "active": True,
                    "conditions": {"query": {"isEmpty": None,
                                             "words": " ".join(rng.sample(words, 1))},
                                   "time": None},
                    "actions": actions, "lastUpdatedAt": None})
    return out


def main(argv: list[str] | None = None) -> None:
    from starlette.testclient import TestClient

    from sift.app import create_app
    from sift.config import load_config
    from sift.rules.matching import query_words
    from sift.storage import search_rules as rule_rows
    from sift.storage.database import utcnow

    parser = argparse.ArgumentParser(prog="python -m benchmarks.rules_cost")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rules", type=int, default=10_000)
    args = parser.parse_args(argv)
    corpus = scifact_corpus(SCIFACT, args.queries, 42, 2000)
    config = {"data_dir": tempfile.mkdtemp(), "master_key": MASTER, "no_analytics": True}
    app = create_app(load_config(config, environ={}))
    master = {"Authorization": f"Bearer {MASTER}"}
    rng = random.Random(42)
    vocabulary = sorted({w for q in corpus.queries for w in query_words(q)})
    ids = [d["id"] for d in corpus.docs]
    rules = _rules(vocabulary, ids, args.rules, rng)
    catch_all = {"uid": "all", "description": None, "precedence": None, "active": True,
                 "conditions": {"query": None, "time": None},
                 "actions": {"pin": [], "scale": [{"weight": 0, "ids": rng.sample(ids, 50),
                                                   "filter": None, "indexUid": "hidden"}]},
                 "lastUpdatedAt": None}
    with TestClient(app) as client:
        svc = app.state.services
        body = b"\n".join(orjson.dumps(doc) for doc in corpus.docs)
        for uid in ("plain", *RULED):
            client.post("/indexes", json={"uid": uid, "primaryKey": "id"}, headers=master)
            task = client.post(f"/indexes/{uid}/documents", content=body,
                               headers={**master, "Content-Type": "application/x-ndjson"}
                               ).json()["taskUid"]
            while client.get(f"/tasks/{task}", headers=master).json()["status"] in (
                "enqueued", "processing"
            ):
                time.sleep(0.05)
        with svc.db.write() as conn:
            for rule in [*rules, catch_all]:
                rule_rows.put(conn, rule, utcnow())
        client.patch("/experimental-features", json={"dynamicSearchRules": True}, headers=master)
        svc.rules.invalidate()
        svc.rules.rules()  # loaded before timing: the first search after a change pays it
        states = [("no rule names the index", "plain"),
                  (f"{args.rules:,} rules name it", "ruled"),
                  (f"{args.rules:,} rules + a hide on every search", "hidden")]
        times: dict[str, list[float]] = {name: [] for name, _ in states}
        matched = []
        for i, q in enumerate(corpus.queries * 2):
            turn = i % len(states)
            for name, uid in states[turn:] + states[:turn]:
                began = time.perf_counter()
                client.post(f"/indexes/{uid}/search", json={"q": q, "limit": 20},
                            headers=master)
                times[name].append((time.perf_counter() - began) * 1000)
            matched.append(len(svc.rules.rules().matching("ruled", q, datetime.now(UTC))))
        started = time.perf_counter()
        svc.rules.invalidate()
        svc.rules.rules()
        load_ms = (time.perf_counter() - started) * 1000
    for name, values in times.items():
        p50, p99 = np.percentile(values, [50, 99])
        print(f"{name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms ({len(values)} searches)")
    print(f"rules matching a search: {np.mean(matched):.1f} on average; loading "
          f"{args.rules:,} rules after a change: {load_ms:.0f} ms")


if __name__ == "__main__":
    main()
