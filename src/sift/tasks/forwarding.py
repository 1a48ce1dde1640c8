"""A document, settings or index task's share for each remote with a database of its own,
built from the task's payload or parameters and owed in the task's own transaction (the
outbox's sender, cluster/outbox.py, sends it once the task has committed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from sift.cluster.forward import Forwarder, requests_for
from sift.storage import outbox as outbox_rows
from sift.storage import tasks as task_rows
from sift.storage.tasks import TaskRecord
from sift.tasks.documents import document_id
from sift.tasks.payload import parse_chunk


def forward(forwarder: Forwarder | None, conn: Connection, task: TaskRecord,
            primary_key: str | None) -> dict[str, Any] | None:  # fmt: skip
    """Owe the remotes ``task`` (applied here already); its ``network`` field, each
    remote not sent yet, or None when this node forwards nothing (not the leader, or
    every remote shares its database)."""
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
    requests = forwarder.owed(requests_for(task.type, task.params, task.index_uid or "",
                                           documents, ids, primary_key, partition, owners,
                                           me))  # fmt: skip
    # The version the shares were split under: each remote's task names it as its
    # origin's `networkVersion`, and the leader's task shows it beside `remoteTasks`.
    version = forwarder.network.version
    outbox_rows.add(conn, task.uid, requests, version)
    if not requests:
        return None
    return {"remoteTasks": {name: {"taskUid": None, "error": None} for name in requests},
            "networkVersion": version}  # fmt: skip
