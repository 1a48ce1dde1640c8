"""One seeded fault run: private PostgreSQL and Redis, N nodes, clients, faults, checks."""

from __future__ import annotations

import contextlib
import random
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.faults import checks
from benchmarks.faults.injectors import FAULTS, Target
from benchmarks.faults.nodes import Node
from benchmarks.faults.proxy import LinkProxy
from benchmarks.faults.services import PrivatePostgres, PrivateRedis, wait_for
from benchmarks.faults.workload import INDEXES, Workload, probe

RECOVERY_TIMEOUT_S = 60.0  # a fault after which no write is processed for this long fails
QUIET_TIMEOUT_S = 120.0
DRAIN_TIMEOUT_S = 60.0
DRAINED = 5  # tasks waiting


@dataclass
class RunConfig:
    faults: int
    seed: int
    nodes: int = 2
    clients: int = 2
    lease_timeout: float = 2.0
    redis: bool = True
    kinds: tuple[str, ...] = tuple(FAULTS)
    workdir: Path | None = None  # kept for the logs when given; a temporary one otherwise


@dataclass
class FaultRecord:
    kind: str
    what: str
    recovered_s: float | None  # from the fault's start until a new write was processed
    problem: str = ""  # why not, if never


@dataclass
class RunResult:
    config: RunConfig
    faults: list[FaultRecord] = field(default_factory=list)
    verdict: checks.Verdict = field(default_factory=checks.Verdict)
    seconds: float = 0.0
    workdir: str = ""

    @property
    def ok(self) -> bool:
        return not self.verdict.failures

    def summary(self) -> dict[str, Any]:
        per_kind: dict[str, list[float]] = {}
        for fault in self.faults:
            if fault.recovered_s is not None:
                per_kind.setdefault(fault.kind, []).append(fault.recovered_s)
        return {
            "seed": self.config.seed,
            "faults": len(self.faults),
            "nodes": self.config.nodes,
            "lease_timeout_s": self.config.lease_timeout,
            "seconds": round(self.seconds, 1),
            "recovery_s": {
                kind: {
                    "count": len(v),
                    "median": round(statistics.median(v), 2),
                    "max": round(max(v), 2),
                }
                for kind, v in per_kind.items()
            },
            **self.verdict.stats,
            "failures": self.verdict.failures,
        }


def schedule(config: RunConfig, rng: random.Random) -> list[str]:
    """Every kind once per round, in a seeded order, until ``faults`` are planned."""
    plan: list[str] = []
    while len(plan) < config.faults:
        round_ = list(config.kinds)
        rng.shuffle(round_)
        plan += round_
    return plan[: config.faults]


def run(config: RunConfig, log: Any = print) -> RunResult:
    began = time.monotonic()
    root = config.workdir or Path(tempfile.mkdtemp(prefix="sift-faults-"))
    root.mkdir(parents=True, exist_ok=True)
    result = RunResult(config, workdir=str(root))
    rng = random.Random(config.seed)
    with contextlib.ExitStack() as stack:  # torn down in reverse, whatever happens
        postgres = PrivatePostgres(root)
        stack.callback(postgres.close)
        redis = PrivateRedis(root) if config.redis else None
        if redis is not None:
            stack.callback(redis.close)
        proxies = [LinkProxy(postgres.port) for _ in range(config.nodes)]
        for proxy in proxies:
            stack.callback(proxy.close)
        nodes = [
            Node(chr(ord("a") + n), root, postgres.url(port=proxies[n].port),
                 redis.url if redis else None, config.lease_timeout, proxies[n])
            for n in range(config.nodes)
        ]  # fmt: skip
        for node in nodes:
            stack.callback(node.stop)
        workload = Workload(nodes, config.seed, config.clients)
        stack.callback(workload.stop)
        for node in nodes:
            node.start()
        _create_indexes(nodes[0])
        workload.start()
        target = Target(nodes, postgres, redis, config.lease_timeout)
        for number, kind in enumerate(schedule(config, rng), 1):
            time.sleep(rng.uniform(0.5, 2.0))  # the clients write between faults
            _drain(nodes)
            record = _inject(kind, target, rng, random.Random(config.seed * 7919 + number))
            result.faults.append(record)
            if record.recovered_s is None:
                result.verdict.fail(f"fault {number} ({record.what}): {record.problem}")
            shown = "never" if record.recovered_s is None else f"{record.recovered_s:.1f} s"
            log(f"fault {number}/{config.faults}: {record.what}; a write sent at its start was "
                f"processed after {shown} ({_backlog(nodes)} tasks waiting)")  # fmt: skip
        workload.stop()
        _settle(nodes)
        _check(result, workload, nodes, postgres)
    result.seconds = time.monotonic() - began
    return result


def _inject(kind: str, target: Target, rng: random.Random, probe_rng: random.Random) -> FaultRecord:
    """Break, probe through the nodes the fault spared, heal after the fault's duration;
    the probe's time counts from the moment the fault began."""
    began = time.monotonic()
    broken = FAULTS[kind](target, rng)
    spared = [n for n in target.nodes if n is not broken.hit] or target.nodes
    took: list[float] = []
    problems: list[str] = []

    def measure() -> None:
        try:
            took.append(probe(spared, probe_rng, began, RECOVERY_TIMEOUT_S))
        except (TimeoutError, AssertionError) as exc:
            problems.append(str(exc))

    prober = threading.Thread(target=measure, name="probe", daemon=True)
    prober.start()
    time.sleep(broken.lasts)
    broken.heal()
    prober.join(RECOVERY_TIMEOUT_S + 10)
    return FaultRecord(kind, broken.what, took[0] if took else None, "; ".join(problems))


def _create_indexes(node: Node) -> None:
    # No typo tolerance (`ember` would find `umber`), every hit countable.
    settings = {"typoTolerance": {"enabled": False}, "pagination": {"maxTotalHits": 10_000}}
    with node.client(30.0) as client:
        uids = [
            client.post("/indexes", json={"uid": i, "primaryKey": "id"}).json()["taskUid"]
            for i in INDEXES
        ]
        uids += [
            client.patch(f"/indexes/{i}/settings", json=settings).json()["taskUid"] for i in INDEXES
        ]
        for uid in uids:
            wait_for(
                lambda uid=uid: client.get(f"/tasks/{uid}").json()["status"] == "succeeded",
                60,
                f"setup task {uid}",
            )


def _backlog(nodes: list[Node]) -> int | str:
    for node in nodes:
        try:
            with node.client(5.0) as client:
                return checks.unfinished(client)
        except httpx.HTTPError:
            continue
    return "?"


def _drain(nodes: list[Node]) -> None:
    """Let the queue shrink to a few tasks (60 s at most) before the next fault, so that the
    probe measures the fault, not a backlog the clients built on a slow machine."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        waiting = _backlog(nodes)
        if isinstance(waiting, int) and waiting <= DRAINED:
            return
        time.sleep(0.5)


def _settle(nodes: list[Node]) -> None:
    """Until no task is left and the task list stops changing: a request that a stalled
    node received may still commit shortly after its link came back."""
    with nodes[0].client(30.0) as client:
        last = None
        while True:
            wait_for(lambda: checks.unfinished(client) == 0, QUIET_TIMEOUT_S, "tasks to finish")
            count = client.get("/tasks", params={"limit": 1}).json()["total"]
            if count == last:
                return
            last = count
            time.sleep(2.0)


def _check(result: RunResult, workload: Workload, nodes: list[Node], postgres: Any) -> None:
    verdict = result.verdict
    requests = workload.requests
    for outcome in ("acked", "in-doubt", "rejected"):
        verdict.stats[f"requests_{outcome}"] = sum(r.outcome == outcome for r in requests)
    with nodes[0].client(60.0) as client:
        tasks = checks.all_tasks(client)
        task_of = checks.check_tasks(verdict, requests, tasks)
        checks.check_batches(verdict, postgres.admin)
        expected = checks.replay(requests, task_of)
        try:
            checks.check_documents(verdict, client, expected)
        except httpx.HTTPError as exc:
            verdict.fail(f"listing documents failed: {exc}")
    checks.check_search(verdict, nodes, expected, timeout=15.0)
