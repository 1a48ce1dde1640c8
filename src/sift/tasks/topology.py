"""The leader's ``networkTopologyChange`` task (Meilisearch v1.30+): enqueued by each
``PATCH /network`` of a network with a leader; when the change moves which remote owns
which documents, each remote with a database of its own is sent the documents it now
owns and told to delete those it no longer owns, through the outbox (cluster/outbox.py),
so a remote that is down catches up once back, in order after the network change itself.

The leader's database holds every document, so the moves are read from it, not from
the remotes. A remote that owned no shard before gets each index created, with its
settings, before its documents. The task stores the shard maps before and after its
change: two changes in a row are two tasks, each moving from the one map to the next,
and writes the leader forwards meanwhile already follow the newer map (the remote may
get a document twice, never miss one). Nodes sharing the leader's database are sent
nothing: they rebuild the shards they own from it on every change (cluster/network.py).

Each remote's share ends with Meilisearch's ``exportNoIndexForRemote`` control message
(cluster/control.py): the remote then enqueues a ``networkTopologyChange`` task of its
own, behind the writes of the change, and the leader's ``remoteTasks`` names that task,
whose success says the whole change is applied there. The remote's task has nothing
left to do when it runs (every write before it in its queue is applied): it is the
change's end on that node, its ``network.origin`` naming the leader's task and version.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy.engine import Connection

from sift.cluster import control, rebalance
from sift.cluster.forward import Request
from sift.cluster.origin import members
from sift.engine.settings import default_settings
from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows
from sift.storage import outbox as outbox_rows
from sift.storage.indexes import IndexRecord
from sift.storage.tasks import TaskRecord

if TYPE_CHECKING:
    from sift.tasks.worker import WorkerContext

TYPE = rebalance.TASK_TYPE
DOCUMENTS_PER_REQUEST = 1000  # a request's documents (an outbox row each, sent in turn)
IDS_PER_REQUEST = 10_000


def run(ctx: WorkerContext, conn: Connection, task: TaskRecord) -> dict[str, Any]:
    if "shards" not in task.params:
        # A remote's end of the leader's change (enqueued by /network/control, no
        # details), or a PATCH /network on a node that does not lead: nothing to move.
        return {"movedDocuments": 0} if "movedDocuments" in (task.details or {}) else {}
    shards = task.params["shards"]
    version = task.params.get("networkVersion")  # absent from a task of an older Sift
    before = {s: tuple(o) for s, o in shards["before"].items()}
    after = {s: tuple(o) for s, o in shards["after"].items()}
    forwarder = ctx.forwarder
    me = forwarder.network.topology.self_name if forwarder is not None else None
    # Nodes known to run on this database have every document already: they rebuild
    # their shards from it (cluster/network.py).
    targets = set() if forwarder is None else forwarder.separate(
        (rebalance.owners(before) | rebalance.owners(after)) - {me} - members(conn))
    owed = _Owed(conn, task.uid, version)
    moved = 0
    # A change of remotes' urls or keys moves nothing: no document is read.
    records = index_rows.all_records(conn) if rebalance.changed(before, after) else []
    for record in records:
        for remote in sorted(targets - rebalance.owners(before)):
            for request in _index_requests(ctx, record):
                owed.add(remote, request)
        moved += _documents(conn, record, before, after, sorted(targets), owed)
    if version is not None and me is not None and forwarder is not None:
        # The end of each share, to every remote still in the network (one removed was
        # sent a network of its own and takes no more of this one).
        for remote in sorted(targets & set(forwarder.network.topology.remotes)):
            owed.add(remote, ("POST", control.PATH, control.export_done(me, task.uid, version)))
    details: dict[str, Any] = {"movedDocuments": moved}
    if owed.remotes:
        details["network"] = {"remoteTasks": {r: {"taskUid": None, "error": None}
                                              for r in sorted(owed.remotes)},
                              "networkVersion": version}  # fmt: skip
    return details


class _Owed:
    """The task's requests, added to the outbox as they are built (one row each, in
    order per remote; the remote enqueues each part once, cluster/origin.py): a change
    moving every document never holds them all in memory."""

    def __init__(self, conn: Connection, task_uid: int, version: str | None) -> None:
        self.conn = conn
        self.task_uid = task_uid
        self.version = version
        self.remotes: set[str] = set()

    def add(self, remote: str, request: Request) -> None:
        outbox_rows.add(self.conn, self.task_uid, {remote: request}, self.version)
        self.remotes.add(remote)


def _index_requests(ctx: WorkerContext, record: IndexRecord) -> list[Request]:
    """An index's creation and its settings (those not at their default), for a remote
    that has never held any of its shards."""
    defaults = default_settings(ctx.index_defaults)
    changed = {k: v for k, v in record.settings.items() if defaults.get(k) != v}
    creation: Request = ("POST", "/indexes", {"uid": record.uid,
                                              "primaryKey": record.primary_key})  # fmt: skip
    if not changed:
        return [creation]
    return [creation, ("PATCH", f"/indexes/{record.uid}/settings", changed)]


def _documents(conn: Connection, record: IndexRecord, before: rebalance.Shards,
               after: rebalance.Shards, targets: list[str], owed: _Owed) -> int:  # fmt: skip
    """Owe each of ``targets`` its documents of ``record`` gained and lost; how many
    documents moved (each counted once, however many remotes gained it)."""
    if record.primary_key is None or not targets:
        return 0
    import httpx  # only a sharded network moves documents (sift/cluster/forward.py)

    ids = doc_rows.all_ids(conn, record.id)
    base = f"/indexes/{record.uid}/documents"
    addition = f"{base}?{httpx.QueryParams({'primaryKey': record.primary_key})}"
    gained: set[int] = set()
    for remote, share in rebalance.moves(before, after, ids, targets).items():
        gained.update(share.gained)
        for part in _parts(share.gained, DOCUMENTS_PER_REQUEST):
            bodies = doc_rows.get_many(conn, record.id, [ids[i] for i in part])
            owed.add(remote, ("POST", addition, [orjson.loads(bodies[ids[i]]) for i in part
                                                 if ids[i] in bodies]))  # fmt: skip
        for part in _parts(share.lost, IDS_PER_REQUEST):
            owed.add(remote, ("POST", f"{base}/delete-batch", [ids[i] for i in part]))
    return len(gained)


def _parts(positions: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(positions), size):
        yield positions[start:start + size]
