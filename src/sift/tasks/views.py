"""Tasks in Meilisearch's wire format."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sift.storage.tasks import TaskRecord


def rfc3339(when: datetime | None) -> str | None:
    if when is None:
        return None
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def iso_duration(start: datetime | None, end: datetime | None) -> str | None:
    if start is None or end is None:
        return None
    seconds = max((end - start).total_seconds(), 0.0)
    return f"PT{seconds:.6f}".rstrip("0").rstrip(".") + "S"


def task_view(task: TaskRecord) -> dict[str, Any]:
    return {
        "uid": task.uid,
        "batchUid": task.batch_uid,
        "indexUid": task.index_uid,
        "status": task.status,
        "type": task.type,
        "canceledBy": task.canceled_by,
        "details": task.details,
        "error": task.error,
        "duration": iso_duration(task.started_at, task.finished_at),
        "enqueuedAt": rfc3339(task.enqueued_at),
        "startedAt": rfc3339(task.started_at),
        "finishedAt": rfc3339(task.finished_at),
    }


def summary_view(task: TaskRecord) -> dict[str, Any]:
    """The body of a 202 answer: what was enqueued."""
    return {
        "taskUid": task.uid,
        "indexUid": task.index_uid,
        "status": task.status,
        "type": task.type,
        "enqueuedAt": rfc3339(task.enqueued_at),
    }
