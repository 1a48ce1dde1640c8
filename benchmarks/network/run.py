"""One network run: load, configure /network, measure memory, agreement and latency."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.ingest.dataset import write_dataset
from benchmarks.network.cluster import MASTER_KEY, Node
from benchmarks.network.queries import query_set
from benchmarks.runners.server_process import free_port
from sift.engine.settings import default_settings
from sift.storage.database import normalize_url

CACHE = Path(__file__).resolve().parents[1] / ".cache" / "network"
CHUNK = 10_000  # documents per POST


@dataclass
class RunConfig:
    documents: int
    nodes: int
    replication: int
    queries: int
    rounds: int
    rules: str
    seed: int
    postgres_url: str
    workdir: Path


@contextmanager
def private_database(server_url: str) -> Iterator[str]:
    """A database of our own on the shared server, dropped afterwards."""
    name = f"sift_bench_network_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(normalize_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def topology(ports: list[int], replication: int) -> dict[str, Any]:
    """One shard per node; shard i on nodes i, i+1, ... (``replication`` of them)."""
    names = [f"ms-{i:02d}" for i in range(len(ports))]
    return {
        "leader": names[0],
        "remotes": {n: {"url": f"http://127.0.0.1:{port}", "searchApiKey": MASTER_KEY}
                    for n, port in zip(names, ports, strict=True)},
        "shards": {f"shard-{i:02d}": {"remotes": [names[(i + k) % len(names)]
                                                  for k in range(replication)]}
                   for i in range(len(names))},
    }  # fmt: skip


def load(node: Node, config: RunConfig, log: Callable[[str], None]) -> float:
    """Settings, then the documents through the API; the seconds the documents took."""
    settings: dict[str, Any] = {
        "filterableAttributes": ["rating", "in_stock", "brand"],
        "sortableAttributes": ["price"],
    }
    if config.rules == "meilisearch":
        settings["rankingRules"] = default_settings("meilisearch")["rankingRules"]
    node.run("PATCH", "/indexes/products/settings", json=settings)
    CACHE.mkdir(parents=True, exist_ok=True)
    path = write_dataset(CACHE / f"products-{config.documents}-{config.seed}.ndjson",
                         config.documents, config.seed)
    lines = path.read_bytes().splitlines(keepends=True)
    started = time.monotonic()
    last = None
    for first in range(0, len(lines), CHUNK):
        answer = node.http.post("/indexes/products/documents?primaryKey=id",
                                content=b"".join(lines[first : first + CHUNK]),
                                headers={"Content-Type": "application/x-ndjson"})
        answer.raise_for_status()
        last = answer.json()["taskUid"]
    if last is not None:
        node.wait_task(last)
    seconds = time.monotonic() - started
    log(f"loaded {len(lines)} documents in {seconds:.0f} s")
    return seconds


def wait_idle(nodes: list[Node], expected: list[int], log: Callable[[str], None]) -> None:
    deadline = time.monotonic() + 1800
    while [n.local_count() for n in nodes] != expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"nodes hold {[n.local_count() for n in nodes]}, not {expected}")
        time.sleep(1)
    time.sleep(5)  # the worker has merged its segments; the allocator has settled
    log(f"nodes hold {expected} documents")


def compare(ref: dict[str, Any], net: dict[str, Any]) -> str:
    ids = [h["id"] for h in ref["hits"]], [h["id"] for h in net["hits"]]
    if ids[0] == ids[1]:
        return "identical"
    scores = ([round(h["_rankingScore"], 9) for h in ref["hits"]],
              [round(h["_rankingScore"], 9) for h in net["hits"]])
    if scores[0] == scores[1]:
        return "ties"  # same scores position by position: only equal-score hits swapped
    if sorted(ids[0]) == sorted(ids[1]):
        return "same_hits"  # the same page in another order
    return "different"


def overlap(ref: dict[str, Any], net: dict[str, Any]) -> float:
    a, b = {h["id"] for h in ref["hits"]}, {h["id"] for h in net["hits"]}
    return len(a & b) / max(len(a), len(b), 1)


def run(config: RunConfig, log: Callable[[str], None]) -> dict[str, Any]:
    config.workdir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"config": {k: str(v) for k, v in vars(config).items()}}
    ports = [free_port() for _ in range(config.nodes)]
    body = topology(ports, config.replication)
    with private_database(config.postgres_url) as url:
        # Documents and topology first, through a node that then goes: every measured
        # node starts on the final state and builds its indexes once (RSS after a
        # rebuild would still hold the first build's freed pages).
        loader = Node("loader", config.workdir, url, None)
        try:
            result["load_seconds"] = round(load(loader, config, log), 1)
            loader.http.patch("/experimental-features", json={"network": True})
            answer = loader.http.patch("/network", json=body)
            answer.raise_for_status()
            # With a leader, the change's networkTopologyChange task (the loader, not a
            # member, has nothing to move): finished before the nodes start.
            if answer.status_code == 202:
                loader.wait_task(answer.json()["taskUid"])
        finally:
            loader.stop()
        started: list[Node] = []
        try:
            for i, port in enumerate(ports):
                started.append(Node(f"ms-{i:02d}", config.workdir, url, f"ms-{i:02d}", port))
            # No name in the network: it holds every document, as a single node would.
            started.append(Node("reference", config.workdir, url, None))
            # A name that owns no shard: it holds nothing, the base cost of a process.
            started.append(Node("empty", config.workdir, url, "empty"))
            *nodes, reference, _empty = started
            held = _held(body, config)
            wait_idle(started, [*held, config.documents, 0], log)
            result["rss_mib"] = {n.name: round(n.rss_mib(), 1) for n in started}
            result["held_documents"] = dict(zip([n.name for n in nodes], held, strict=True))
            result.update(_agreement_and_latency(config, nodes[0], reference, log))
        finally:
            for node in started:
                node.stop()
    return result


def _held(body: dict[str, Any], config: RunConfig) -> list[int]:
    from sift.engine.partition import Partition

    part = Partition(tuple(body["shards"]))
    sizes: dict[str, int] = {}
    for i in range(config.documents):
        shard = part.shard_of(str(i))
        sizes[shard] = sizes.get(shard, 0) + 1
    return [sum(size for shard, size in sizes.items()
                if name in body["shards"][shard]["remotes"])
            for name in sorted(body["remotes"])]  # fmt: skip


STATISTICS_STAGE = "network > corpus statistics"  # the coordinator's performanceDetails


def _seconds(text: str) -> float:
    """``"1.23ms"`` or ``"2.50s"`` (Meilisearch's duration format) in seconds."""
    return float(text[:-2]) / 1000 if text.endswith("ms") else float(text[:-1])


def _agreement_and_latency(
    config: RunConfig, node: Node, reference: Node, log: Callable[[str], None]
) -> dict[str, Any]:
    queries = query_set(config.queries, config.seed)
    outcome = {"identical": 0, "ties": 0, "same_hits": 0, "different": 0}
    overlaps: list[float] = []
    examples: list[dict[str, Any]] = []
    times: dict[str, list[float]] = {"reference_local": [], "network": [], "node_local": [],
                                     "statistics_round": []}
    for round_ in range(config.rounds):
        for body in queries:
            scored = {**body, "showRankingScore": True}
            ref, t_ref = reference.search({**scored, "useNetwork": False})
            # useNetwork: on by default (a leader is set)
            net, t_net = node.search({**scored, "showPerformanceDetails": True})
            stages = net.get("performanceDetails", {})
            if STATISTICS_STAGE in stages:  # the round ran (not with Meilisearch's rules)
                times["statistics_round"].append(_seconds(stages[STATISTICS_STAGE]))
            _, t_local = node.search({**scored, "useNetwork": False})
            times["reference_local"].append(t_ref)
            times["network"].append(t_net)
            times["node_local"].append(t_local)
            if round_ == 0:
                verdict = compare(ref, net)
                outcome[verdict] += 1
                overlaps.append(overlap(ref, net))
                if verdict == "different" and len(examples) < 3:
                    examples.append({"query": body,
                                     "reference": [h["id"] for h in ref["hits"]][:10],
                                     "network": [h["id"] for h in net["hits"]][:10]})
    medians = {k: round(statistics.median(v) * 1000, 2) for k, v in times.items() if v}
    log(f"agreement {outcome}; medians (ms) {medians}")
    return {
        "agreement": outcome,
        "mean_overlap": round(statistics.mean(overlaps), 3),
        "different_examples": examples,
        "latency_median_ms": medians,
        "network_over_reference": round(medians["network"] / medians["reference_local"], 2),
        "added_ms": round(medians["network"] - medians["reference_local"], 2),
        "sequential_qps_reference": round(1000 / medians["reference_local"], 1),
        "sequential_qps_network": round(1000 / medians["network"], 1),
    }
