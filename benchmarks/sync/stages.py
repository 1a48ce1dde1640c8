"""Where each probed change's lag goes, stage by stage (`--stages`).

The server runs with SIFT_STAGE_TRACE (src/sift/tasks/stagetrace.py): the sync runner
writes, per commit to Sift, each source transaction's stamps and keys and the commit's
task uids; the worker, per batch, its task uids and stamps. A probe (a writer's update
of one row, its commit time, and when the prober first saw it) is matched to the source
transaction that carried its key nearest its commit, and that to the batch that ran its
tasks. Every stamp is `time.time()` on this machine, so the stages add up to the lag.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import orjson

# (name, from stamp, to stamp): consecutive, from the writer's commit to the probe's answer.
STAGES = (
    ("source commit -> reader decoded it", "committed", "got"),
    ("reader -> sync thread took it", "got", "took"),
    ("window: took -> commit started", "took", "closed"),
    ("waiting for Sift's write lock", "closed", "locked"),
    ("sync commit (tasks + position)", "locked", "done"),
    ("task queued -> worker picked it", "done", "picked"),
    ("indexing (the batch)", "picked", "applied"),
    ("batch commit", "applied", "batch_committed"),
    ("publication", "batch_committed", "published"),
    ("published -> the probe that saw it sent", "published", "sent"),
    ("that probe's request (sent -> answered)", "sent", "seen"),
)


def load(path: Path) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """The sync commits, and each task uid's batch."""
    commits: list[dict[str, Any]] = []
    batches: dict[int, dict[str, Any]] = {}
    if not path.exists():
        return commits, batches
    for line in path.read_bytes().splitlines():
        record = orjson.loads(line)
        if record["e"] == "sync":
            commits.append(record)
        elif record["e"] == "batch":
            for uid in record["tasks"]:
                batches[uid] = record
    return commits, batches


def stamps(probe: dict[str, Any], commits: list[dict[str, Any]],
           batches: dict[int, dict[str, Any]]) -> dict[str, float] | None:  # fmt: skip
    """The probe's stamps along the way, or None if its transaction or batch is not
    in the trace."""
    best: tuple[float, dict[str, Any], dict[str, Any]] | None = None
    key = str(probe["id"])  # PostgreSQL's stream carries the key as text
    for commit in commits:
        for txn in commit["txns"]:
            if key in map(str, txn["keys"]) and txn["got"] is not None:
                distance = abs(txn["got"] - probe["committed"])
                if best is None or distance < best[0]:
                    best = (distance, txn, commit)
    if best is None:
        return None
    _, txn, commit = best
    ran = [batches[uid] for uid in commit["tasks"] if uid in batches]
    if not ran:
        return None
    batch = max(ran, key=lambda b: b["published"])
    return {"committed": probe["committed"], "got": txn["got"], "took": txn["took"],
            "closed": max(commit["closed"], txn["took"]),
            "locked": max(commit["locked"], txn["took"]), "done": commit["done"],
            "picked": batch["picked"], "applied": batch["applied"],
            "batch_committed": batch["committed"], "published": batch["published"],
            "sent": probe["sent"], "seen": probe["seen"],
            "engine_ms": probe.get("engine_ms", float("nan")),
            "queries": probe.get("queries", float("nan"))}  # fmt: skip


def breakdown(path: Path, probes: list[dict[str, Any]]) -> dict[str, Any]:
    """p50 / p99 (ms) of each stage over the probes found in the trace."""
    commits, batches = load(path)
    found = [s for p in probes if (s := stamps(p, commits, batches)) is not None]
    result: dict[str, Any] = {"probes": len(probes), "matched": len(found), "stages": {}}
    for name, start, end in STAGES:
        spans = sorted(1000 * (s[end] - s[start]) for s in found) or [float("nan")]
        result["stages"][name] = {
            "p50_ms": statistics.median(spans),
            "p99_ms": spans[min(len(spans) - 1, int(0.99 * len(spans)))],
        }
    # Not a stage: of that request, the engine's own time (processingTimeMs, summed over
    # its queries), and how many queries it held.
    for name, key in (("  of which in the engine (its queries)", "engine_ms"),
                      ("  queries in that request (count)", "queries")):  # fmt: skip
        values = sorted(s[key] for s in found) or [float("nan")]
        result["stages"][name] = {"p50_ms": statistics.median(values),
                                  "p99_ms": values[min(len(values) - 1, int(0.99 * len(values)))]}
    return result


def show(name: str, result: dict[str, Any]) -> None:
    print(f"{name}: stages of {result['matched']} of {result['probes']} probes (ms, p50 / p99):",
          flush=True)  # fmt: skip
    for stage, figures in result["stages"].items():
        print(f"    {stage:<40} {figures['p50_ms']:8.1f} {figures['p99_ms']:8.1f}", flush=True)


def timeline(path: Path, healthy: float, done: float) -> dict[str, float]:
    """Where a snapshot's wall time went (`--stages`), in seconds after /health first
    answered: the sync thread's steps (runner.py's `step` records), the first and last
    snapshot batches (read by the child, committed to Sift) and the worker's first and
    last batches of them (picked, published), then the harness seeing the last row."""
    points: dict[str, float] = {}
    snapshots: list[dict[str, Any]] = []
    batches: list[dict[str, Any]] = []
    for line in path.read_bytes().splitlines() if path.exists() else []:
        record = orjson.loads(line)
        if record["e"] == "step":
            points.setdefault(f"sync thread: {record['step']}", record["at"])
        elif record["e"] == "snapshot":
            snapshots.append(record)
        elif record["e"] == "batch":
            batches.append(record)
    if snapshots:
        for which, record in (("first", snapshots[0]), ("last", snapshots[-1])):
            for stamp in ("began", "fetched", "prepared", "got", "done"):
                if stamp in record:
                    points[f"{which} snapshot batch: {stamp}"] = record[stamp]
        uids = {uid for record in snapshots for uid in record["tasks"]}
        ran = [b for b in batches if uids & set(b["tasks"])]
        if ran:
            for which, batch in (("first", ran[0]), ("last", ran[-1])):
                for stamp in ("picked", "published"):
                    points[f"worker's {which} batch of them: {stamp}"] = batch[stamp]
    points["harness: last row found"] = done
    return {name: at - healthy for name, at in sorted(points.items(), key=lambda p: p[1])}


def show_timeline(name: str, points: dict[str, float]) -> None:
    print(f"{name}: snapshot timeline (s after /health):", flush=True)
    for point, at in points.items():
        print(f"    {point:<44} {at:7.3f}", flush=True)
