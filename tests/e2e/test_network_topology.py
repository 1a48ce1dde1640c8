"""A sharded network whose topology changes, each node on a SQLite database of its own:
the leader's `networkTopologyChange` task sends a remote that joins the documents of its
shards (also while it is down: the outbox waits for it) and has each remote drop what it
no longer owns, a removed remote is told, and through every change a network search
(and a federated multi-search with `useNetwork`) answers what one node holding every
document answers, ties included. Every member shows the leader's network version after
each change, and the remotes' tasks name it in their origin (`networkVersion`); each
remote ends its share of a change with a `networkTopologyChange` task of its own, started
by the leader's `/network/control` message. A forged forwarded write is refused."""

from __future__ import annotations

from typing import Any

import pytest

from sift.cluster.origin import Origin
from sift.engine.partition import Partition
from tests.e2e.sift_process import MASTER_KEY, ServerPool, SiftProcess
from tests.e2e.test_network import documents, search, wait_until
from tests.e2e.test_network_forwarding import SETTINGS, finished, network_of, stored, write

pytestmark = [pytest.mark.e2e]

NAMES = ("ms-00", "ms-01", "ms-02")
QUERIES: list[dict[str, Any]] = [
    {"q": "river stone"}, {"q": "ember", "filter": "n < 300"}, {"q": ""},
    {"q": "", "sort": ["n:desc"]},
]  # fmt: skip


def remote(node: SiftProcess) -> dict[str, Any]:
    return {"url": node.url, "searchApiKey": MASTER_KEY, "writeApiKey": MASTER_KEY}


def share(shards: dict[str, list[str]], name: str, ids: list[int]) -> list[int]:
    """The ids ``name`` owns under ``shards``."""
    partition = Partition(tuple(shards))
    return [i for i in ids if name in shards[partition.shard_of(str(i))]]


def held(node: SiftProcess) -> list[int] | None:
    """The ids in the node's own database; None while it has no index yet."""
    with node.client() as client:
        if client.get("/indexes/books").status_code == 404:
            return None
    return stored(node)


def topology_change(leader: SiftProcess, body: dict[str, Any]) -> dict[str, Any]:
    """PATCH the leader's /network; its `networkTopologyChange` task, finished."""
    with leader.client() as client:
        before = client.get("/tasks", params={"types": "networkTopologyChange"}).json()["total"]
        answer = client.patch("/network", json=body)
        assert answer.status_code == 202, answer.text  # with a leader: the change's task
        tasks = client.get("/tasks", params={"types": "networkTopologyChange"}).json()
    assert tasks["total"] == before + 1, tasks
    assert tasks["results"][0]["uid"] == answer.json()["taskUid"]
    task = finished(leader, answer.json()["taskUid"])
    assert task["status"] == "succeeded" and task["indexUid"] is None, task
    return task


def one_version(leader: SiftProcess, nodes: list[SiftProcess]) -> str:
    """The leader's network version, once every one of ``nodes`` shows it too."""
    version = network_of(leader)["version"]
    wait_until(lambda: all(network_of(n)["version"] == version for n in nodes))
    return version


def remote_task(leader: SiftProcess, task: dict[str, Any], name: str,
                node: SiftProcess) -> dict[str, Any]:  # fmt: skip
    """The task remote ``name`` (``node``) enqueued last for the leader's ``task``, as the
    leader's `remoteTasks` names it once delivered, finished."""
    with leader.client() as client:
        uid = wait_until(lambda: client.get(f"/tasks/{task['uid']}").json()["network"][
            "remoteTasks"][name]["taskUid"])  # fmt: skip
    return finished(node, uid)


def ended_change(leader: SiftProcess, change: dict[str, Any], version: str,
                 remotes: dict[str, SiftProcess]) -> None:  # fmt: skip
    """The leader's topology change names ``version``; each of ``remotes`` ended its
    share with a `networkTopologyChange` of its own naming the leader's task and it."""
    assert change["network"]["networkVersion"] == version, change
    assert set(change["network"]["remoteTasks"]) == set(remotes), change
    for name, node in remotes.items():
        end = remote_task(leader, change, name, node)
        assert (end["type"], end["status"]) == ("networkTopologyChange", "succeeded"), end
        assert end["network"] == {"origin": {"remoteName": "ms-00", "taskUid": change["uid"],
                                             "networkVersion": version}}  # fmt: skip


def same_answers(nodes: list[SiftProcess], reference: SiftProcess) -> None:
    """Every node's network search and federated multi-search answer as ``reference``."""
    for query in QUERIES:
        asked = {**query, "limit": 400, "showRankingScore": True}
        alone = [(h["id"], h["_rankingScore"]) for h in search(reference, asked)["hits"]]
        for node in nodes:
            spanned = search(node, {**asked, "useNetwork": True})
            assert "remoteErrors" not in spanned, spanned
            got = [(h["id"], h["_rankingScore"]) for h in spanned["hits"]]
            assert got == alone, (node.url, query)
    federated = {"federation": {"limit": 120}, "queries": [
        {"indexUid": "books", "q": "river"}, {"indexUid": "books", "q": ""}]}  # fmt: skip
    with reference.client() as client:
        answer = client.post("/multi-search", json=federated).json()
    alone = [(h["id"], h["_federation"]["queriesPosition"]) for h in answer["hits"]]
    assert len(alone) == 120
    networked = {**federated, "queries": [{**q, "useNetwork": True}
                                          for q in federated["queries"]]}  # fmt: skip
    for node in nodes:
        with node.client() as client:
            answer = client.post("/multi-search", json=networked).json()
        assert "remoteErrors" not in answer, answer
        got = [(h["id"], h["_federation"]["queriesPosition"]) for h in answer["hits"]]
        assert got == alone, node.url


def test_a_topology_change_moves_documents_and_a_removed_remote_is_told(
    servers: ServerPool,
) -> None:
    nodes = {name: servers.new(name) for name in NAMES}
    for name, node in nodes.items():
        node.start("--network-self", name)
        with node.client() as client:
            assert client.patch("/experimental-features", json={"network": True}).is_success
    reference = servers.new("reference")
    reference.start()
    leader, first, joining = nodes["ms-00"], nodes["ms-01"], nodes["ms-02"]
    shards = {"a": ["ms-00"], "b": ["ms-01"]}
    unset = network_of(leader)["version"]
    topology_change(leader, {"leader": "ms-00", "remotes": {
        "ms-00": remote(leader), "ms-01": remote(first)},
        "shards": {s: {"remotes": o} for s, o in shards.items()}})  # fmt: skip
    wait_until(lambda: network_of(first)["leader"] == "ms-00")
    version = one_version(leader, [first])
    assert version != unset
    additions = []
    for node in (leader, reference):
        write(node, "POST", "/indexes", {"uid": "books", "primaryKey": "id"})
        write(node, "PATCH", "/indexes/books/settings", SETTINGS)
        additions.append(write(node, "POST", "/indexes/books/documents", documents(0, 400)))
    ids = list(range(400))
    wait_until(lambda: stored(first) == share(shards, "ms-01", ids))
    same_answers([leader, first], reference)
    # The leader's write names the version its shares were split under, and so does
    # the task ms-01 enqueued for its share.
    added = additions[0]
    assert added["network"]["networkVersion"] == version, added
    forwarded = remote_task(leader, added, "ms-01", first)
    assert forwarded["network"]["origin"] == {"remoteName": "ms-00", "taskUid": added["uid"],
                                              "networkVersion": version}  # fmt: skip

    # ms-02 joins while it is down: a new shard and a replica of `b`. It is owed the
    # network, the index with its settings, and the documents of its shards; ms-01 is
    # owed the deletion of the documents that left `b` for `c`.
    assert joining.terminate() == 0
    shards = {"a": ["ms-00"], "b": ["ms-01", "ms-02"], "c": ["ms-02"]}
    grown = topology_change(leader, {"remotes": {"ms-02": remote(joining)}, "shards": {
        "b": {"addRemotes": ["ms-02"]}, "c": {"remotes": ["ms-02"]}}})  # fmt: skip
    assert grown["details"]["movedDocuments"] == len(share(shards, "ms-02", ids))
    wait_until(lambda: stored(first) == share(shards, "ms-01", ids))
    joining.start("--network-self", "ms-02")
    wait_until(lambda: held(joining) == share(shards, "ms-02", ids), 60)
    with joining.client() as client:
        assert sorted(client.get("/indexes/books/settings").json()["filterableAttributes"]) == [
            "kind", "n"]  # fmt: skip
    nodes_now = [leader, first, joining]
    wait_until(lambda: all(network_of(n)["shards"] == network_of(leader)["shards"]
                           for n in nodes_now))  # fmt: skip
    # Three nodes, one version: the one the change drew on the leader.
    grown_version = one_version(leader, [first, joining])
    assert grown_version != version
    ended_change(leader, grown, grown_version, {"ms-01": first, "ms-02": joining})
    # The documents the change moved to ms-02 are Meilisearch's imports of that change.
    with joining.client() as client:
        imports = client.get("/tasks", params={"types": "documentAdditionOrUpdate"}).json()
    change = {"remoteName": "ms-00", "taskUid": grown["uid"], "networkVersion": grown_version}
    assert imports["results"] and all(t["network"]["networkChange"] == change
                                      for t in imports["results"]), imports  # fmt: skip
    assert sum(t["network"]["importFrom"]["documentCount"]
               for t in imports["results"]) == len(share(shards, "ms-02", ids))
    same_answers(nodes_now, reference)

    # A client's key allowed to add documents cannot pass a write off as the leader's.
    with joining.client() as client:
        key = client.post("/keys", json={"actions": ["documents.add"], "indexes": ["*"],
                                         "expiresAt": None}).json()["key"]  # fmt: skip
        forged = client.post("/indexes/books/documents", json=[{"id": 9999}], headers={
            "Authorization": f"Bearer {key}", **Origin("ms-00", 1, "x").headers()})
    assert forged.status_code == 403 and forged.json()["code"] == "invalid_forwarded_write"

    # ms-01 leaves: ms-02 already holds `b`, so nothing moves to it; ms-01 is told, and
    # its network becomes itself alone (it takes writes again, as a node of its own).
    shards = {"a": ["ms-00"], "b": ["ms-02"], "c": ["ms-02"]}
    shrunk = topology_change(leader, {"remotes": {"ms-01": None}})
    assert shrunk["details"]["movedDocuments"] == 0
    alone = {"self": "ms-01", "leader": None, "remotes": {"ms-01": remote(first)},
             "shards": {}}  # fmt: skip
    wait_until(lambda: {k: v for k, v in network_of(first).items() if k != "version"} == alone)
    # It left the leader's network: a version of its own, not the leader's new one.
    shrunk_version = one_version(leader, [joining])
    assert network_of(first)["version"] not in (grown_version, shrunk_version)
    same_answers([leader, joining], reference)
    with first.client() as client:
        assert client.post("/indexes/books/documents", json=[{"id": 1}]).status_code == 202

    # `b` moves back to the leader alone: ms-02 drops it, the leader's own index takes it.
    shards = {"a": ["ms-00"], "b": ["ms-00"], "c": ["ms-02"]}
    moved = topology_change(leader, {"shards": {"b": {"remotes": ["ms-00"]}}})
    assert moved["details"]["movedDocuments"] == 0  # the leader's database has them
    wait_until(lambda: stored(joining) == share(shards, "ms-02", ids))
    same_answers([leader, joining], reference)
