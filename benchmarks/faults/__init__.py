"""Fault injection against several Sift nodes sharing one PostgreSQL (issue #14).

Real processes on 127.0.0.1: a private PostgreSQL cluster and Redis (the shared servers
are never touched), N `sift serve` nodes each behind its own TCP proxy to PostgreSQL, and
client threads importing, updating and deleting documents through every node. Seeded
faults land one after another (kill -9 of the leader, termination of its lease session
or of all its sessions, SIGSTOP/SIGCONT, a PostgreSQL restart, Redis going away, a dropped
or stalled link), each healed before the next; then the checks of `checks.py` run.

`python -m benchmarks faults --faults 100` is the long run (docs/deployment.md reports
it); tests/e2e/test_faults.py runs a short seeded one.
"""

from benchmarks.faults.run import RunConfig, RunResult, run
from benchmarks.faults.services import Unavailable

__all__ = ["RunConfig", "RunResult", "Unavailable", "run"]
