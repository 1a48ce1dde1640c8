"""Which database this node writes to, and the writes the leader forwarded to it.

Nodes sharing one database see every write already; a node with a database of its own
gets its share of each document write from the leader (cluster/forward.py). Every
database draws a random id once (the ``meta`` row below); the leader names its own with
each forwarded write, so a remote on the same database recognises the write as one it
already has. The remote records each forwarded write's origin (database and task uid) in
the transaction that enqueues it, so the leader's retry of the same task after a crash or
a lost answer returns the task enqueued the first time instead of a second one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.errors import SiftError
from sift.storage import keys as meta_rows
from sift.storage import tasks as task_rows
from sift.storage.database import Database
from sift.storage.schema import meta
from sift.storage.tasks import TaskRecord

# Keys under this prefix belong to one database: a backup leaves them out (ops/backups.py).
META_PREFIX = "network_"
_DATABASE_ID = META_PREFIX + "database_id"
_ORIGIN = META_PREFIX + "origin:"
_MEMBER = META_PREFIX + "node:"
HEADER_REMOTE = "X-Sift-Origin-Remote"
HEADER_TASK = "X-Sift-Origin-Task"
HEADER_DATABASE = "X-Sift-Origin-Database"
HEADER_PART = "X-Sift-Origin-Part"
HEADER_NETWORK_VERSION = "X-Sift-Origin-Network-Version"
HEADER_NETWORK_CHANGE = "X-Sift-Origin-Network-Change"


def network_version(value: Any, where: str) -> str:
    """``value`` as a network version (a UUID, in its canonical form), or the error."""
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else _bad_version(value, where)
    except ValueError:
        return _bad_version(value, where)


def _bad_version(value: Any, where: str) -> str:
    raise SiftError(
        f"Invalid value at `{where}`: expected a network version (a UUID), but found "
        f"`{value}`.",
        "invalid_network_version",
    )


def database_id(db: Database) -> str:
    """This database's id, drawn the first time any node asks (two nodes asking at once
    keep the one committed first)."""
    with db.read() as conn:
        known = meta_rows.get_meta(conn, _DATABASE_ID)
    if known is not None:
        return known
    try:
        with db.write() as conn:
            meta_rows.set_meta(conn, _DATABASE_ID, uuid.uuid4().hex)
    except sa.exc.IntegrityError:
        pass  # another node drew it meanwhile
    with db.read() as conn:
        drawn = meta_rows.get_meta(conn, _DATABASE_ID)
    assert drawn is not None
    return drawn


def note_member(db: Database, name: str) -> None:
    """Record that the node named ``name`` (by its ``network_self`` setting) runs on this
    database, so that a leader on it knows, before asking, that the node has every write
    already (a topology change then owes it nothing: tasks/topology.py)."""
    with db.read() as conn:
        if meta_rows.get_meta(conn, _MEMBER + name) is not None:
            return
    try:
        with db.write() as conn:
            meta_rows.set_meta(conn, _MEMBER + name, "1")
    except sa.exc.IntegrityError:
        pass  # noted by another process meanwhile


def members(conn: Connection) -> set[str]:
    """The names of the nodes that have run on this database (:func:`note_member`)."""
    named = meta.c.key.startswith(_MEMBER, autoescape=True)
    rows = conn.execute(sa.select(meta.c.key).where(named))
    return {key[len(_MEMBER):] for key in rows.scalars()}


@dataclass(frozen=True)
class Origin:
    """The leader's task a forwarded write comes from."""

    remote: str
    task_uid: int
    database: str
    # Which of the task's requests to this remote, when it sends several (a topology
    # change sends documents in parts): each part is a write of its own, enqueued once.
    part: int | None = None
    # The leader's network version the write was routed under (Meilisearch's
    # ``networkVersion``); None from a leader that did not name one.
    network_version: str | None = None
    # Sent by the leader's ``networkTopologyChange`` task (tasks/topology.py): a document
    # import of that change, shown as Meilisearch's ``networkChange`` and ``importFrom``.
    network_change: bool = False

    def headers(self) -> dict[str, str]:
        headers = {
            HEADER_REMOTE: self.remote,
            HEADER_TASK: str(self.task_uid),
            HEADER_DATABASE: self.database,
        }
        if self.part is not None:
            headers[HEADER_PART] = str(self.part)
        if self.network_version is not None:
            headers[HEADER_NETWORK_VERSION] = self.network_version
        if self.network_change:
            headers[HEADER_NETWORK_CHANGE] = "true"
        return headers

    def to_dict(self) -> dict[str, Any]:
        """The task's ``network.origin`` as Meilisearch shows it."""
        shown: dict[str, Any] = {"remoteName": self.remote, "taskUid": self.task_uid}
        if self.network_version is not None:
            shown["networkVersion"] = self.network_version
        return shown

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Origin | None:
        """The origin a forwarded write names; None for a write sent by a client."""
        values = [headers.get(h) for h in (HEADER_REMOTE, HEADER_TASK, HEADER_DATABASE)]
        if all(v is None for v in values):
            return None
        remote, task, database = values
        if not remote or not database or task is None or not task.isdigit():
            raise SiftError(
                f"A forwarded write needs the headers `{HEADER_REMOTE}`, `{HEADER_TASK}` "
                f"(a task uid) and `{HEADER_DATABASE}` together.",
                "bad_request",
            )
        part = headers.get(HEADER_PART)
        if part is not None and not part.isdigit():
            raise SiftError(f"`{HEADER_PART}` must be a number.", "bad_request")
        version = headers.get(HEADER_NETWORK_VERSION)
        if version is not None:
            version = network_version(version, HEADER_NETWORK_VERSION)
        change = headers.get(HEADER_NETWORK_CHANGE)
        if change not in (None, "true", "false"):
            raise SiftError(f"`{HEADER_NETWORK_CHANGE}` must be `true` or `false`.",
                            "bad_request")  # fmt: skip
        return cls(remote, int(task), database, None if part is None else int(part), version,
                   change == "true")  # fmt: skip

    def _key(self) -> str:
        part = "" if self.part is None else f":{self.part}"
        return f"{_ORIGIN}{self.database}:{self.task_uid}:{self.remote}{part}"


def forwarded_before(conn: Connection, origin: Origin | None) -> TaskRecord | None:
    """The task this database enqueued for ``origin`` already, if any (and not deleted
    since: then the write is enqueued again, harmless as it finished long ago)."""
    if origin is None:
        return None
    known = meta_rows.get_meta(conn, origin._key())
    return None if known is None else task_rows.get(conn, int(known))


def with_origin(params: dict[str, Any] | None, origin: Origin | None) -> dict[str, Any]:
    """A forwarded task's parameters: the origin is shown as its ``network.origin``."""
    if origin is None:
        return dict(params or {})
    shown = {**(params or {}), "networkOrigin": origin.to_dict()}
    if origin.network_change:
        shown["networkChange"] = True  # tasks/views.py shows an import as Meilisearch does
    return shown


def record(conn: Connection, origin: Origin | None, task_uid: int) -> None:
    """Note that ``task_uid`` carries ``origin``'s write, in the task's transaction (two
    identical writes at once: one of them fails on the key, and its retry finds this)."""
    if origin is None:
        return
    if meta_rows.get_meta(conn, origin._key()) is None:
        conn.execute(sa.insert(meta).values(key=origin._key(), value=str(task_uid)))
    else:
        meta_rows.set_meta(conn, origin._key(), str(task_uid))
