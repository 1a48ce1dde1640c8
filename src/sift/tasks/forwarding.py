"""A document or settings task's share for each remote with a database of its own
(cluster/forward.py sends it), built from the task's payload or parameters."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from sift.cluster.forward import Forwarder, requests_for
from sift.storage import tasks as task_rows
from sift.storage.tasks import TaskRecord
from sift.tasks.documents import document_id
from sift.tasks.payload import parse_chunk


def forward(forwarder: Forwarder | None, conn: Connection, task: TaskRecord,
            primary_key: str | None) -> dict[str, Any] | None:  # fmt: skip
    """Send ``task`` (applied here already) to the remotes; its ``network`` field, or
    None when this node forwards nothing (not the leader, or every remote shares its
    database)."""
    plan = forwarder.plan() if forwarder is not None else None
    if forwarder is None or plan is None:
        return None
    partition, owners, me = plan
    documents: list[dict[str, Any]] = []
    ids: list[str] = []
    if task.type == "documentAdditionOrUpdate":
        if primary_key is None:
            return None  # an empty payload
        for chunk in task_rows.iter_payload(conn, task.uid):
            documents.extend(parse_chunk(chunk))
        ids = [document_id(doc, primary_key) for doc in documents]
    elif "ids" in task.params:
        ids = [str(i) for i in task.params["ids"]]
    requests = requests_for(task.type, task.params, task.index_uid or "", documents, ids,
                            primary_key, partition, owners, me)  # fmt: skip
    remote_tasks = forwarder.send(task.uid, requests)
    return {"remoteTasks": remote_tasks} if remote_tasks else None
