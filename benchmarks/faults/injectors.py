"""The faults: each breaks one thing and says how to heal it, and after how long.

They aim at the leader (the node the lease row names) when it matters, since a follower's
faults cost nothing but its own requests; link faults pick the leader two times in three.
The run (run.py) breaks, sends a probe write through a node the fault spared, waits the
fault's duration, heals, and records when the probe's task succeeded.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from benchmarks.faults.nodes import Node, leader
from benchmarks.faults.services import PrivatePostgres, PrivateRedis


@dataclass
class Target:
    nodes: list[Node]
    postgres: PrivatePostgres
    redis: PrivateRedis | None
    lease_timeout: float

    def leader_or_any(self, rng: random.Random) -> Node:
        return leader(self.nodes, self.postgres.admin) or rng.choice(self.nodes)

    def link_target(self, rng: random.Random) -> Node:
        return self.leader_or_any(rng) if rng.random() < 2 / 3 else rng.choice(self.nodes)

    def outage(self, rng: random.Random) -> float:
        """Shorter than the lease timeout a third of the time (the holder keeps the lease),
        longer otherwise (another node takes over, the faulty one must step down)."""
        if rng.random() < 1 / 3:
            return rng.uniform(0.3, 0.8 * self.lease_timeout)
        return rng.uniform(1.2 * self.lease_timeout, 3.0 * self.lease_timeout)


@dataclass
class Broken:
    what: str
    hit: Node | None  # the node the fault is aimed at; None: every node is affected
    lasts: float  # seconds before heal()
    heal: Callable[[], None] = lambda: None


def kill9(t: Target, rng: random.Random) -> Broken:
    node = t.leader_or_any(rng)
    node.kill()
    down = rng.uniform(0.0, 1.5)
    return Broken(f"kill -9 {node.name}, restarted after {down:.1f} s", node, down, node.start)


def _terminate(t: Target, pattern: str) -> int:
    with t.postgres.admin.connect() as conn:
        return len(conn.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name LIKE :p"
        ), {"p": pattern}).all())  # fmt: skip


def terminate_lease(t: Target, rng: random.Random) -> Broken:
    node = t.leader_or_any(rng)
    ended = _terminate(t, "sift-lease %")
    return Broken(f"terminated {node.name}'s lease session ({ended})", node, 0.0)


def terminate_sessions(t: Target, rng: random.Random) -> Broken:
    node = t.leader_or_any(rng)
    ended = _terminate(t, f"% %:{node.pid}")  # every session of that node (see nodes.leader)
    return Broken(f"terminated all {ended} sessions of {node.name}", node, 0.0)


def sigstop(t: Target, rng: random.Random) -> Broken:
    node = t.leader_or_any(rng)
    pause = t.outage(rng)
    node.pause()
    return Broken(f"SIGSTOP {node.name} for {pause:.1f} s", node, pause, node.cont)


def postgres_restart(t: Target, rng: random.Random) -> Broken:
    mode = rng.choice(("fast", "immediate"))
    t.postgres.restart(mode)
    return Broken(f"PostgreSQL restart ({mode})", None, 0.0)


def redis_outage(t: Target, rng: random.Random) -> Broken:
    redis = t.redis
    if redis is None:
        return Broken("no Redis in this run", None, 0.0)
    down = rng.uniform(0.5, 3.0)
    redis.stop()
    return Broken(f"Redis down for {down:.1f} s", None, down, redis.start)


def _link(t: Target, rng: random.Random, stall: bool) -> Broken:
    node = t.link_target(rng)
    lasts = t.outage(rng)
    (node.proxy.stall if stall else node.proxy.drop)()
    how, heal = ("stalled", node.proxy.resume) if stall else ("dropped", node.proxy.restore)
    return Broken(f"link {node.name}-PostgreSQL {how} for {lasts:.1f} s", node, lasts, heal)


def link_drop(t: Target, rng: random.Random) -> Broken:
    return _link(t, rng, stall=False)


def link_stall(t: Target, rng: random.Random) -> Broken:
    return _link(t, rng, stall=True)


FAULTS: dict[str, Callable[[Target, random.Random], Broken]] = {
    "kill9": kill9,
    "terminate-lease": terminate_lease,
    "terminate-sessions": terminate_sessions,
    "sigstop": sigstop,
    "postgres-restart": postgres_restart,
    "redis-outage": redis_outage,
    "link-drop": link_drop,
    "link-stall": link_stall,
}
