"""This node's view of the /network topology, kept in step with the database.

The topology lives in one row (storage/network.py) that every node sharing the database
reads. Searches never wait on it: a watcher thread reads the row's version every
``poll`` seconds and reloads the topology when it moved, and a PATCH on this node takes
effect at once. Listeners hear about each change (the catalog rebuilds the shards this
node owns when they changed).

``self`` is the one per-node field: on nodes sharing a database each sets it with the
``network_self`` setting, which then wins over the stored one.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy.engine import Connection

from sift.cluster import rebalance
from sift.cluster.fanout import NetworkSearch
from sift.cluster.forward import Forwarder, farewell_requests, network_requests
from sift.cluster.health import RemoteHealth
from sift.cluster.origin import database_id, network_version, note_member
from sift.cluster.topology import Topology, apply_patch
from sift.engine.partition import Partition
from sift.errors import NotALeader, SiftError
from sift.ops import experimental
from sift.storage import network as network_rows
from sift.storage import outbox as outbox_rows
from sift.storage import tasks as task_rows
from sift.storage.commits import CommitWatch
from sift.storage.database import Database, error_summary
from sift.storage.tasks import TaskRecord

log = logging.getLogger("sift.network")



def _own_write_key(topology: dict[str, Any], fixed_self: str | None) -> str | None:
    """The ``writeApiKey`` a topology (in its JSON form) names for its ``self``."""
    me = fixed_self or topology.get("self")
    remotes = topology.get("remotes")
    remote = remotes.get(me) if isinstance(remotes, dict) and isinstance(me, str) else None
    key = remote.get("writeApiKey") if isinstance(remote, dict) else None
    return key if isinstance(key, str) else None


def _version_of(body: Any, forwarded: bool) -> tuple[Any, str | None]:
    """A PATCH /network body without its ``version``, and that version: only the leader
    sets one (its forwarded topology carries the version every member takes); a client's
    change draws a new one, so two different networks never share a version."""
    if not isinstance(body, dict) or "version" not in body:
        return body, None
    if not forwarded:
        raise SiftError(
            "`.version` is drawn by the node a change is made on, and sent by the leader "
            "to the other remotes: a PATCH /network cannot set it.",
            "invalid_network_version",
        )
    rest = {k: v for k, v in body.items() if k != "version"}
    return rest, network_version(body["version"], ".version")


class Network:
    def __init__(
        self,
        db: Database,
        self_name: str | None = None,
        poll: float = 1.0,
        timeout: float = 5.0,
    ) -> None:
        self.db = db
        self.fixed_self = self_name
        self.poll = poll
        self.health = RemoteHealth()
        self.searcher = NetworkSearch(self.health, timeout)
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Sent with each forwarded write: a remote on this same database skips it.
        self.database_id = database_id(db)
        if self_name is not None:
            note_member(db, self_name)
        self.forwarder = Forwarder(self, timeout)
        with db.read() as conn:
            row = network_rows.read(conn)
        self._set(row, experimental.enabled(db, "network"))

    # -- reading ------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def topology(self) -> Topology:
        return self._topology

    @property
    def version(self) -> str:
        """The network's version (Meilisearch's ``version``): a UUID each change of the
        topology replaces; a remote takes its leader's, so every member shows the same."""
        return self._network_version

    def require_enabled(self) -> None:
        if not self._enabled:
            experimental.require(self.db, "network", "/network")  # raises, with the reason

    def refuse_unless_leader(self, forwarded: bool) -> None:
        """Meilisearch's rule once a ``leader`` is set: a node other than the leader
        takes no write (``not_a_leader``) unless the leader forwarded it. Without a
        leader, or while this node's ``self`` is unknown, every node takes writes (nodes
        sharing one database, each written to directly)."""
        topology = self._topology
        if (self._enabled and not forwarded and topology.leader is not None
                and topology.self_name is not None
                and topology.self_name != topology.leader):  # fmt: skip
            raise NotALeader(topology.self_name, topology.leader)

    def writes_with(self, token: str, offered: Any = None) -> bool:
        """Whether ``token`` is the key the leader writes to this node with: the
        ``writeApiKey`` of this node in its topology, or in ``offered`` (a new topology
        the leader sends, which may name a new key), compared in constant time."""
        keys = [_own_write_key(self._topology.to_dict(), self.fixed_self)]
        if isinstance(offered, dict):
            keys.append(_own_write_key(offered, self.fixed_self))
        return any(key is not None and hmac.compare_digest(token.encode(), key.encode())
                   for key in keys)  # fmt: skip

    def view(self) -> dict[str, Any]:
        """GET /network: the topology and its version, each remote with its availability
        as last seen."""
        body = {**self._topology.to_dict(), "version": self._network_version}
        for name, remote in body["remotes"].items():
            remote["status"] = self.health.status(name)
        return body

    def partition(self) -> Partition | None:
        """How this node's indexes split documents: by the topology's shards while the
        feature is on (turned off, every node holds everything again)."""
        return self._topology.partition() if self._enabled else None

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each change of the topology or the feature switch."""
        self._listeners.append(listener)

    # -- writing ------------------------------------------------------------

    def update(self, body: Any, forwarded: bool = False) -> TaskRecord | None:
        """Apply a PATCH /network body in one transaction; the ``networkTopologyChange``
        task it enqueued (None when the network has no leader, or the body is the
        leader's, which ends with a task of its own, cluster/control.py).

        ``forwarded``: the body is the leader's whole topology (sent by
        :meth:`_owe_remotes` on the leader), which replaces this node's instead of
        patching it, so a remote the leader removed is removed here too, and its
        ``version`` becomes this node's. Otherwise a change draws a new version (a PATCH
        that changes nothing keeps it), and a change made on the leader (it leads before
        or after the change) is owed to every other remote, with that version, in the
        same transaction, through the outbox that forwards its writes.

        As Meilisearch does, a change of a network with a ``leader`` enqueues a
        ``networkTopologyChange`` task, every change, moving documents or not (the
        answer is that task's summary); without a leader the network is all there is
        (the answer is the network). The topology itself is changed at once."""
        body, given = _version_of(body, forwarded)
        if isinstance(body, dict) and self.fixed_self is not None:
            wanted = body.get("self", self.fixed_self)
            if wanted != self.fixed_self:
                raise SiftError(
                    f"This node is `{self.fixed_self}` by its `network_self` setting: "
                    f"`.self` cannot name it `{wanted}`.",
                    "invalid_network_self",
                )
        with self.db.write() as conn:
            seen = network_rows.read(conn, for_update=True)
            before = self._stored(seen.topology)
            topology = apply_patch(Topology() if forwarded else before, body)
            stored = topology.to_dict()
            if self.fixed_self is not None and "self" not in (body or {}):
                stored["self"] = seen.topology.get("self")  # another node's `self` stays
            changed = Topology.from_dict(stored) != Topology.from_dict(seen.topology)
            new = given or (network_rows.new_version() if changed else seen.network_version)
            revision = network_rows.write(conn, seen, stored, new)
            task = None
            if not forwarded:
                self._owe_remotes(conn, before, self._stored(stored), revision, new)
                task = self._topology_change(conn, before, self._stored(stored), new)
        self._set(network_rows.NetworkRow(stored, revision, new), self._enabled)
        return task

    def _owe_remotes(self, conn: Connection, before: Topology, after: Topology,
                     revision: int, version: str) -> None:  # fmt: skip
        """Owe every other remote the new topology when this node leads (before the
        change, or after it: a leader handing over tells the others too), as
        Meilisearch's leader propagates it, and every remote it removes a network of its
        own (cluster/forward.py ``farewell_requests``). Remotes known to share this
        database read the same row and are sent nothing."""
        me = after.self_name
        if not self._enabled or me is None or me not in (before.leader, after.leader):
            return
        requests = self.forwarder.owed(network_requests(after, version), after)
        # A remote left out is told too (found in the topology before the change); it
        # leaves this network, so it draws a version of its own.
        requests.update(self.forwarder.owed(farewell_requests(before, after), before))
        # No task: the outbox row is numbered by the row's revision, negated.
        outbox_rows.add(conn, -revision, requests, version)

    def _topology_change(self, conn: Connection, before: Topology, after: Topology,
                         version: str) -> TaskRecord | None:  # fmt: skip
        """Enqueue Meilisearch's ``networkTopologyChange`` task for a change of a network
        with a leader (None without one). On the leader of a sharded network it holds
        the shard maps before and after: the worker sends each remote with a database of
        its own what it gains and loses, and the end of its share (tasks/topology.py),
        which a change moving nothing still sends, so each remote ends it with a task of
        its own too. Before a leader, remotes were sent nothing: they own none. On
        another node (a PATCH naming the leader) the task has nothing to move."""
        if not self._enabled or after.leader is None:
            return None
        params: dict[str, Any] = {"networkVersion": version}
        me = after.self_name
        if me is not None and me == after.leader and after.sharded:
            old = before.shards if before.sharded else {}
            params = rebalance.task_params(old, after.shards, version)
        return task_rows.enqueue(self.db, conn, rebalance.TASK_TYPE, None,
                                 {"movedDocuments": None}, params)  # fmt: skip

    # -- keeping up with other nodes -------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="sift-network", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.searcher.close()
        self.forwarder.close()

    def refresh(self) -> None:
        """Reload the topology if another node changed it, and the feature switch (stored
        with the other experimental switches, sift.ops.experimental)."""
        enabled = experimental.enabled(self.db, "network")
        with self.db.read() as conn:
            row = None if network_rows.version(conn) == self._version else network_rows.read(conn)
        self._set(row, enabled)

    def _watch(self) -> None:
        # Reads only after a commit (storage/commits.py): on SQLite an idle node's
        # second is then one pragma, not two transactions.
        commits = CommitWatch(self.db.data_version)
        while not self._stop.wait(self.poll):
            try:
                if commits.changed():
                    self.refresh()
                    commits.caught_up()
            except Exception as exc:  # the database away: keep the last topology, retry
                log.warning("cannot read the network topology: %s", error_summary(exc))

    # -- internals -------------------------------------------------------------

    def _stored(self, raw: dict[str, Any]) -> Topology:
        topology = Topology.from_dict(raw)
        if self.fixed_self is not None:
            topology = replace(topology, self_name=self.fixed_self)
        return topology

    def _set(self, row: network_rows.NetworkRow | None, enabled: bool) -> None:
        """Take a new topology row (None: the same as before) and switch state."""
        with self._lock:
            before = (getattr(self, "_enabled", None), getattr(self, "_topology", None))
            self._enabled = enabled
            if row is not None and row.version != getattr(self, "_version", None):
                self._topology = self._stored(row.topology)
                self._version = row.version
                self._network_version = row.network_version
            changed = before != (self._enabled, self._topology)
        if changed:
            for listener in self._listeners:
                listener()
