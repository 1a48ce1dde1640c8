"""Tasks in Meilisearch's wire format."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sift.storage.tasks import TaskRecord


def rfc3339(when: datetime | None) -> str | None:
    """UTC RFC 3339 as Meilisearch writes it: the fraction without trailing zeros, and
    none at all for a whole second (`2050-11-13T00:00:00Z`)."""
    if when is None:
        return None
    fraction = f"{when.microsecond:06d}".rstrip("0")
    return when.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def iso_duration(start: datetime | None, end: datetime | None) -> str | None:
    if start is None or end is None:
        return None
    seconds = max((end - start).total_seconds(), 0.0)
    return f"PT{seconds:.6f}".rstrip("0").rstrip(".") + "S"


def task_view(task: TaskRecord) -> dict[str, Any]:
    details, network = _network(task)
    view = {
        "uid": task.uid,
        "batchUid": task.batch_uid,
        "indexUid": task.index_uid,
        "status": task.status,
        "type": task.type,
        "canceledBy": task.canceled_by,
        "details": details,
        "error": task.error,
        "duration": iso_duration(task.started_at, task.finished_at),
        "enqueuedAt": rfc3339(task.enqueued_at),
        "startedAt": rfc3339(task.started_at),
        "finishedAt": rfc3339(task.finished_at),
    }
    if network is not None:
        view["network"] = network
    return _with_custom_metadata(view, task)


def _network(task: TaskRecord) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The task's details and Meilisearch's `network` field: the remote tasks a leader's
    task was forwarded as (kept in its details, tasks/forwarding.py), or the leader's
    task a forwarded one came from (kept in its parameters, cluster/origin.py), or, for
    documents a topology change moved here, the change and what it imported."""
    details = task.details
    if details is not None and "network" in details:
        details = {k: v for k, v in details.items() if k != "network"}
        return details, task.details["network"]  # type: ignore[index]
    params = task.params or {}
    origin = params.get("networkOrigin")
    if origin is None:
        return details, None
    if params.get("networkChange") and task.type == "documentAdditionOrUpdate":
        # Documents a topology change moved here: Meilisearch's import variant, its
        # `networkChange` naming the leader's task and network version.
        count = (details or {}).get("receivedDocuments") or 0
        return details, {"networkChange": origin, "importFrom": {
            "remoteName": origin["remoteName"], "indexName": task.index_uid,
            "documentCount": count}}  # fmt: skip
    return details, {"origin": origin}


def _with_custom_metadata(view: dict[str, Any], task: TaskRecord) -> dict[str, Any]:
    """Echo the caller's `customMetadata`, which only tasks given one carry."""
    if task.params and "customMetadata" in task.params:
        view["customMetadata"] = task.params["customMetadata"]
    return view


def summary_view(task: TaskRecord) -> dict[str, Any]:
    """The body of a 202 answer: what was enqueued."""
    summary = {
        "taskUid": task.uid,
        "indexUid": task.index_uid,
        "status": task.status,
        "type": task.type,
        "enqueuedAt": rfc3339(task.enqueued_at),
    }
    return _with_custom_metadata(summary, task)


def _merged_details(batch: list[TaskRecord]) -> dict[str, Any]:
    """The batch's details: counters summed over its tasks, other fields from the first."""
    merged: dict[str, Any] = {}
    for task in batch:
        for key, value in (_network(task)[0] or {}).items():
            if isinstance(value, int) and not isinstance(value, bool):
                current = merged.get(key)
                merged[key] = value + (current if isinstance(current, int) else 0)
            else:
                merged.setdefault(key, value)
    return merged


def _tally(values: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def batch_view(
    uid: int,
    batch: list[TaskRecord],
    progress: dict[str, Any] | None = None,
    trace: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A batch in Meilisearch's wire format, derived from the tasks that share its uid;
    ``progress`` is shown while the batch is processing (null once it is done)."""
    started = min((t.started_at for t in batch if t.started_at), default=None)
    finished = (
        None
        if any(t.finished_at is None for t in batch)
        else max((t.finished_at for t in batch if t.finished_at), default=None)
    )
    return {
        "uid": uid,
        "progress": progress if finished is None else None,
        "details": _merged_details(batch),
        "stats": {
            "totalNbTasks": len(batch),
            "status": _tally([t.status for t in batch]),
            "types": _tally([t.type for t in batch]),
            "indexUids": _tally([t.index_uid for t in batch if t.index_uid]),
            # Time per step, recorded when the batch finished ({} until then).
            "progressTrace": trace or {},
        },
        "duration": iso_duration(started, finished),
        "startedAt": rfc3339(started),
        "finishedAt": rfc3339(finished),
        "batchStrategy": (
            f"batched {len(batch)} compatible {' and '.join(dict.fromkeys(t.type for t in batch))}"
            " task(s)" if batch else "empty batch"
        ),
    }
