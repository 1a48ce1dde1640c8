"""Clients that import, update and delete documents through every node while faults land.

Each request carries a unique `customMetadata` (its request id), which its task echoes.
After the run, the tasks that exist say exactly which requests were committed, whatever
the client saw: a 202 (acknowledged), a timeout or reset (in doubt), a 5xx. Replaying the
committed requests in task uid order gives the only correct final state (the worker
applies tasks in uid order). About one request in thirty is invalid on purpose (a bad
document id): its task must fail with `invalid_document_id` and change nothing.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from benchmarks.faults.nodes import Node

INDEXES = ("north", "south")
ID_SPACE = 1200  # few enough that requests keep replacing and merging the same documents
WORDS = (
    "amber",
    "birch",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "grove",
    "harbor",
    "iris",
    "juniper",
    "kelp",
    "lumen",
    "maple",
    "nectar",
    "opal",
    "pine",
    "quartz",
    "raven",
    "sage",
    "tundra",
    "umber",
    "violet",
    "willow",
    "yarrow",
    "zephyr",
)
REQUEST_TIMEOUT_S = 15.0


@dataclass
class Request:
    rid: str  # unique; sent as customMetadata
    index: str
    kind: str  # replace | update | delete | invalid
    body: list[Any]  # documents, or ids for delete
    node: str = ""
    outcome: str = "unsent"  # acked | in-doubt | rejected (an HTTP error status)
    task_uid: int | None = None
    detail: str = ""


def make_request(rng: random.Random, rid: str) -> Request:
    index = rng.choice(INDEXES)
    roll = rng.random()
    count = rng.randint(1, 20) if rng.random() < 0.9 else rng.randint(100, 300)
    ids = rng.sample(range(ID_SPACE), count)
    if roll < 0.04:
        return Request(rid, index, "delete", ids[: max(1, count // 4)])
    if roll < 0.07:
        docs: list[Any] = [{"id": i, "title": "bad"} for i in ids[:3]] + [{"id": "no spaces!"}]
        return Request(rid, index, "invalid", docs)
    if roll < 0.30:
        return Request(
            rid, index, "update", [{"id": i, "stock": rng.randint(0, 99), "urev": rid} for i in ids]
        )
    docs = [
        {"id": i, "title": " ".join(rng.sample(WORDS, 2)), "rev": rid, "n": rng.randint(0, 10_000)}
        for i in ids
    ]
    return Request(rid, index, "replace", docs)


class Workload:
    """``clients`` threads, each sending one request at a time to a random node."""

    def __init__(self, nodes: list[Node], seed: int, clients: int = 2) -> None:
        self.nodes = nodes
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._client,
                args=(n, random.Random(seed * 1000 + n)),
                name=f"client-{n}",
                daemon=True,
            )
            for n in range(clients)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(REQUEST_TIMEOUT_S + 10)

    def _client(self, number: int, rng: random.Random) -> None:
        seq = 0
        while not self._stop.is_set():
            request = make_request(rng, f"c{number}-{seq}")
            seq += 1
            send(rng.choice(self.nodes), request)
            with self._lock:
                self.requests.append(request)
            self._stop.wait(
                rng.uniform(0.2, 0.8)
            )  # a write rate a loaded 2-core machine keeps up with


def send(node: Node, request: Request) -> None:
    request.node = node.name
    path = f"/indexes/{request.index}/documents"
    method = {"replace": "POST", "invalid": "POST", "update": "PUT", "delete": "POST"}
    if request.kind == "delete":
        path += "/delete-batch"
    try:
        with node.client(REQUEST_TIMEOUT_S) as client:
            response = client.request(
                method[request.kind],
                path,
                json=request.body,
                params={"customMetadata": request.rid},
            )
    except httpx.TransportError as exc:
        request.outcome, request.detail = "in-doubt", exc.__class__.__name__
        return
    if response.status_code == 202:
        request.outcome, request.task_uid = "acked", int(response.json()["taskUid"])
    else:
        request.outcome, request.detail = (
            "rejected",
            f"{response.status_code} {response.text[:200]}",
        )


def probe(nodes: list[Node], rng: random.Random, began: float, timeout: float) -> float:
    """Seconds from ``began`` until a fresh task, sent to any of ``nodes`` that answers,
    has succeeded: how long writes waited because of a fault."""
    while time.monotonic() - began < timeout:
        node = rng.choice(nodes)
        try:
            with node.client(5.0) as client:
                response = client.post("/indexes/probe/documents", json=[{"id": 1, "t": "x"}])
                if response.status_code != 202:
                    time.sleep(0.2)
                    continue
                uid = response.json()["taskUid"]
                while time.monotonic() - began < timeout:
                    task = client.get(f"/tasks/{uid}").json()
                    if task["status"] == "succeeded":
                        return time.monotonic() - began
                    if task["status"] in ("failed", "canceled"):
                        raise AssertionError(f"probe task {uid} {task['status']}: {task}")
                    time.sleep(0.05)
        except httpx.TransportError:
            time.sleep(0.2)
    raise TimeoutError(f"no write was processed within {timeout:g} s")
