"""The leader's document, settings and index writes, forwarded to the remotes that keep
their own database.

With sharding (a ``leader`` in /network), the leader's worker applies each document task
to its own database and, in the same transaction, owes every other remote its share: the
documents (or ids to delete) of the shards the remote owns, split by the same
``Partition.shard_of`` that decides which shard a node indexes. A deletion by filter or
of every document, a settings update, and an index's creation, update (primary key, uid),
deletion or swap go to every remote, and so does a change of the leader's /network
(``network_requests``, owed by cluster/network.py). Each request names the leader's task
(cluster/origin.py): a remote on the leader's own database answers that it has the write
already, and a remote that enqueued it before (the leader retrying after a crash) answers
with the task it enqueued then. The leader's task lists each remote's task uid (or the
error of the last try) as Meilisearch's ``network.remoteTasks``.

The worker does not send anything itself: it adds each remote's request to the outbox
in the transaction of the task's outcome (storage/outbox.py), and the outbox's sender
(cluster/outbox.py) delivers them once the batch has committed, and again later, in
order, while a remote does not answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sift.cluster.origin import Origin
from sift.cluster.topology import Remote, Topology
from sift.engine.partition import Partition

if TYPE_CHECKING:
    import httpx

    from sift.cluster.network import Network

log = logging.getLogger("sift.network")

Request = tuple[str, str, Any]  # method, path (with query), JSON body


def split(partition: Partition, owners: dict[str, tuple[str, ...]], ids: Iterable[str],
          leave_out: str | None) -> dict[str, list[int]]:  # fmt: skip
    """For each remote other than ``leave_out``, the positions in ``ids`` of the items
    its shards hold (a shard's replicas each get them)."""
    shares: dict[str, list[int]] = {}
    for position, doc_id in enumerate(ids):
        for remote in owners[partition.shard_of(doc_id)]:
            if remote != leave_out:
                shares.setdefault(remote, []).append(position)
    return shares


def requests_for(task_type: str, params: dict[str, Any], index_uid: str,
                 documents: list[dict[str, Any]], ids: list[str], primary_key: str | None,
                 partition: Partition, owners: dict[str, tuple[str, ...]],
                 leave_out: str | None) -> dict[str, Request]:  # fmt: skip
    """What each remote is sent for one task: ``documents`` (an addition, their ids in
    ``ids``, under the leader's ``primary_key``) or ``ids`` (a deletion by id); a
    deletion by filter or of everything, a settings update and an index's creation,
    update or deletion go to every remote."""
    base = f"/indexes/{index_uid}/documents"
    everyone = sorted({r for rs in owners.values() for r in rs if r != leave_out})
    if task_type in _INDEX_REQUESTS:
        request = _INDEX_REQUESTS[task_type](index_uid, params)
        return {r: request for r in everyone}
    if task_type == "settingsUpdate":
        return {r: ("PATCH", f"/indexes/{index_uid}/settings", params["settings"])
                for r in everyone}  # fmt: skip
    if task_type == "documentAdditionOrUpdate":
        query = {"primaryKey": primary_key} if primary_key else {}
        if params.get("skipCreation"):
            query["skipCreation"] = "true"
        method = "PUT" if params.get("method") == "update" else "POST"
        import httpx

        path = base + (f"?{httpx.QueryParams(query)}" if query else "")
        return {
            remote: (method, path, [documents[i] for i in positions])
            for remote, positions in split(partition, owners, ids, leave_out).items()
        }
    if "ids" in params:
        return {
            remote: ("POST", base + "/delete-batch", [ids[i] for i in positions])
            for remote, positions in split(partition, owners, ids, leave_out).items()
        }
    if params.get("all"):
        return {remote: ("DELETE", base, None) for remote in everyone}
    return {remote: ("POST", base + "/delete", {"filter": params["filter"]})
            for remote in everyone}  # fmt: skip


def _index_update(index_uid: str, params: dict[str, Any]) -> Request:
    body = {"primaryKey": params.get("primaryKey")}
    if params.get("newIndexUid"):
        body["uid"] = params["newIndexUid"]
    return ("PATCH", f"/indexes/{index_uid}", body)


# An index's own tasks go to every remote, as Meilisearch's leader sends them: the index
# exists (or not) on every node, whichever shards it holds.
_INDEX_REQUESTS: dict[str, Callable[[str, dict[str, Any]], Request]] = {
    "indexCreation": lambda uid, params: (
        "POST", "/indexes", {"uid": uid, "primaryKey": params.get("primaryKey")}),
    "indexUpdate": _index_update,
    "indexDeletion": lambda uid, params: ("DELETE", f"/indexes/{uid}", None),
    "indexSwap": lambda uid, params: ("POST", "/swap-indexes", params["swaps"]),
}


def network_requests(topology: Topology, version: str) -> dict[str, Request]:
    """What each other remote is sent when the leader's /network changes: the whole
    topology, with ``self`` set to that remote's name (it replaces the remote's own), and
    its ``version`` (the remote takes it, so every member shows the same)."""
    body = {**topology.to_dict(), "version": version}
    return {name: ("PATCH", "/network", {**body, "self": name})
            for name in topology.remotes if name != topology.self_name}  # fmt: skip


def farewell_requests(before: Topology, after: Topology) -> dict[str, Request]:
    """What each remote that ``after`` leaves out is sent: a network of itself alone (no
    leader, no shards), so it stops refusing writes as `not_a_leader` and stops sending
    searches to the network it left. Its documents stay: it answers for what it holds."""
    return {
        name: ("PATCH", "/network", {"self": name, "leader": None,
                                     "remotes": {name: remote.to_dict()}, "shards": {}})
        for name, remote in before.remotes.items()
        if name not in after.remotes and name != after.self_name
    }  # fmt: skip


def _leaving(name: str, request: Request) -> Remote | None:
    """The remote a farewell (:func:`farewell_requests`) goes to: no longer in the network,
    it is found in the network the request gives it."""
    method, path, body = request
    if method != "PATCH" or path != "/network" or not isinstance(body, dict):
        return None
    own = (body.get("remotes") or {}).get(name) if body.get("self") == name else None
    return Remote.from_dict(own) if isinstance(own, dict) else None


def is_network_change(task_uid: int) -> bool:
    """Whether an outbox row carries a /network change (numbered by the topology's
    version, negated) rather than a task's write."""
    return task_uid < 0


class Forwarder:
    """Sends the leader's writes to the remotes (see the module's docstring)."""

    def __init__(self, network: Network, timeout: float = 5.0) -> None:
        self.network = network
        self.timeout = timeout
        self._same_database: set[str] = set()  # remote urls on the leader's database

    @cached_property
    def client(self) -> httpx.Client:
        """Made at the first write sent to a remote. httpx (~5 MiB of RSS with the rich and
        pygments its command line imports) is loaded only by a node that has remotes."""
        import httpx

        return httpx.Client(timeout=self.timeout)

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()

    def plan(self) -> tuple[Partition, dict[str, tuple[str, ...]], str] | None:
        """The shards and this node's name while it is the leader of a sharded network
        whose other remotes may have databases of their own; None otherwise."""
        topology = self.network.topology
        partition = self.network.partition()
        if (partition is None or topology.self_name is None
                or topology.leader != topology.self_name):  # fmt: skip
            return None
        others = {r for rs in topology.shards.values() for r in rs if r != topology.self_name}
        if all(topology.remotes[r].url in self._same_database for r in others):
            return None
        return partition, topology.shards, topology.self_name

    def owed(self, requests: dict[str, Request],
             topology: Topology | None = None) -> dict[str, Request]:  # fmt: skip
        """The requests of remotes that may have a database of their own (remotes as in
        ``topology``, by default the current one)."""
        remotes = (topology or self.network.topology).remotes
        return {name: request for name, request in requests.items()
                if name in remotes and remotes[name].url not in self._same_database}  # fmt: skip

    def separate(self, names: set[str]) -> set[str]:
        """Those of ``names`` in the network that may have a database of their own."""
        return set(self.owed(dict.fromkeys(names, ("", "", None))))

    def deliver(self, name: str, task_uid: int, request: Request, part: int | None = None,
                network_version: str | None = None,
                network_change: bool = False) -> dict[str, Any] | None:  # fmt: skip
        """Send remote ``name`` its request of the leader's task ``task_uid``, once: its
        entry of Meilisearch's ``remoteTasks`` (an error of type ``system`` when it may
        answer later), or None when it shares the leader's database (nothing to send).
        ``part``: which of the task's requests to this remote, when it sends several;
        ``network_version``: the network's version the request was routed under (the
        remote shows it as the ``networkVersion`` of its task's origin);
        ``network_change``: the request is part of a ``networkTopologyChange``."""
        topology = self.network.topology
        remote = topology.remotes.get(name) or _leaving(name, request)
        if remote is None:  # removed from /network: asking again would change nothing
            left = _unreachable(name, "it is no longer in the network")
            return {"taskUid": None, "error": {**left, "type": "invalid_request"}}
        if remote.url in self._same_database:
            return None
        # The leader's name, as when the write was owed: a lease holder sending it after
        # a takeover (nodes sharing the leader's database) names the same origin.
        # A /network change names the topology's version where a write names its task.
        origin = Origin(topology.leader or topology.self_name or "", abs(task_uid),
                        self.network.database_id, part, network_version,
                        network_change)  # fmt: skip
        method, path, body = request
        headers = origin.headers()
        if remote.write_api_key:
            headers["Authorization"] = f"Bearer {remote.write_api_key}"
        import httpx

        try:
            answer = self.client.request(method, remote.url + path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            self.network.health.failed(name)
            return {"taskUid": None,
                    "error": _unreachable(remote.url, f"{type(exc).__name__}: {exc}")}
        if answer.status_code == 200 and answer.json().get("sameDatabase"):
            self._same_database.add(remote.url)
            return None
        if answer.status_code in (200, 202):  # a task enqueued; /network changed at once
            self.network.health.answered(name)
            return {"taskUid": answer.json().get("taskUid"), "error": None}
        try:
            error = answer.json()
        except ValueError:
            error = _unreachable(remote.url, f"HTTP {answer.status_code}")
        if answer.status_code >= 500:
            self.network.health.failed(name)
            error = {**error, "type": "system"}  # asking again later may work
        log.warning("the write of task %s was not taken by %s: %s", task_uid, remote.url,
                    error.get("message"))  # fmt: skip
        return {"taskUid": None, "error": error}


def _unreachable(url: str, why: str) -> dict[str, Any]:
    return {
        "message": f"The remote at `{url}` could not be reached: {why}.",
        "code": "remote_could_not_be_reached",
        "type": "system",
        "link": "https://docs.meilisearch.com/errors#remote_could_not_be_reached",
    }
