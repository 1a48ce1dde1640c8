"""The leader's split of a document task among the remotes (cluster/forward.py)."""

from __future__ import annotations

from typing import Any

import httpx

from sift.cluster.forward import Forwarder, farewell_requests, requests_for, split
from sift.cluster.health import RemoteHealth
from sift.cluster.origin import Origin
from sift.cluster.topology import Remote, Topology
from sift.engine.partition import Partition

SHARDS = {"a": ("ms-00", "ms-01"), "b": ("ms-01",), "c": ("ms-02",)}
PARTITION = Partition(tuple(SHARDS))
IDS = [str(i) for i in range(300)]


def test_each_remote_gets_the_documents_of_the_shards_it_owns() -> None:
    shares = split(PARTITION, SHARDS, IDS, leave_out="ms-00")
    assert set(shares) == {"ms-01", "ms-02"}  # the leader keeps its own
    for remote, positions in shares.items():
        wanted = [i for i, d in enumerate(IDS) if remote in SHARDS[PARTITION.shard_of(d)]]
        assert positions == wanted and positions, remote
    # Every document reaches at least one node; a replicated shard reaches each owner.
    reached = {i for positions in shares.values() for i in positions}
    only_leader = {i for i, d in enumerate(IDS) if SHARDS[PARTITION.shard_of(d)] == ("ms-00",)}
    assert reached | only_leader == set(range(len(IDS)))


def test_an_addition_keeps_its_method_primary_key_and_documents() -> None:
    docs = [{"id": d, "n": int(d)} for d in IDS]
    sent = requests_for("documentAdditionOrUpdate", {"method": "update", "skipCreation": True},
                        "books", docs, IDS, "id", PARTITION, SHARDS, "ms-00")  # fmt: skip
    method, path, body = sent["ms-02"]
    assert method == "PUT"
    assert path == "/indexes/books/documents?primaryKey=id&skipCreation=true"
    assert [d["id"] for d in body] == [d for d in IDS if PARTITION.shard_of(d) == "c"]
    assert sent["ms-01"][0] == "PUT" and len(sent["ms-01"][2]) == sum(
        PARTITION.shard_of(d) in ("a", "b") for d in IDS)


def test_an_index_creation_update_and_deletion_go_to_every_remote() -> None:
    def sent(task_type: str, params: dict[str, Any]) -> dict[str, Any]:
        return requests_for(task_type, params, "books", [], [], None, PARTITION, SHARDS,
                            "ms-00")  # fmt: skip

    everyone = ("ms-01", "ms-02")
    assert sent("indexCreation", {"primaryKey": "isbn"}) == {
        r: ("POST", "/indexes", {"uid": "books", "primaryKey": "isbn"}) for r in everyone}
    assert sent("indexUpdate", {"primaryKey": "isbn"}) == {
        r: ("PATCH", "/indexes/books", {"primaryKey": "isbn"}) for r in everyone}
    renamed = sent("indexUpdate", {"primaryKey": None, "newIndexUid": "novels"})
    assert renamed["ms-02"] == ("PATCH", "/indexes/books",
                                {"primaryKey": None, "uid": "novels"})  # fmt: skip
    assert sent("indexDeletion", {}) == {
        r: ("DELETE", "/indexes/books", None) for r in everyone}


def test_deletions_by_id_go_to_owners_and_by_filter_to_everyone() -> None:
    by_id = requests_for("documentDeletion", {"ids": IDS[:20]}, "books", [], IDS[:20], None,
                         PARTITION, SHARDS, "ms-00")  # fmt: skip
    for remote, (method, path, ids) in by_id.items():
        assert (method, path) == ("POST", "/indexes/books/documents/delete-batch")
        assert ids == [d for d in IDS[:20] if remote in SHARDS[PARTITION.shard_of(d)]]
    by_filter = requests_for("documentDeletion", {"filter": "n > 3"}, "books", [], [], None,
                             PARTITION, SHARDS, "ms-00")  # fmt: skip
    assert by_filter == {
        r: ("POST", "/indexes/books/documents/delete", {"filter": "n > 3"})
        for r in ("ms-01", "ms-02")
    }
    everything = requests_for("documentDeletion", {"all": True}, "books", [], [], None,
                              PARTITION, SHARDS, "ms-00")  # fmt: skip
    assert everything == {r: ("DELETE", "/indexes/books/documents", None)
                          for r in ("ms-01", "ms-02")}  # fmt: skip


def test_a_settings_update_goes_to_every_remote_as_sent() -> None:
    patch = {"filterableAttributes": ["n"], "stopWords": None}
    sent = requests_for("settingsUpdate", {"settings": patch}, "books", [], [], None,
                        PARTITION, SHARDS, "ms-00")  # fmt: skip
    assert sent == {r: ("PATCH", "/indexes/books/settings", patch) for r in ("ms-01", "ms-02")}


class _Network:
    """The parts of cluster.Network a Forwarder reads."""

    def __init__(self) -> None:
        remotes = {n: Remote(f"http://{n}", None, f"key-{n}") for n in ("ms-00", "ms-01")}
        self.topology = Topology("ms-00", "ms-00", remotes, {"a": ("ms-00",), "b": ("ms-01",)})
        self.database_id = "db-leader"
        self.health = RemoteHealth()

    def partition(self) -> Partition | None:
        return self.topology.partition()


def _forwarder(handler: Any) -> Forwarder:
    forwarder = Forwarder(_Network())  # type: ignore[arg-type]
    forwarder.client = httpx.Client(transport=httpx.MockTransport(handler))
    return forwarder


def test_a_remote_is_sent_the_origin_and_its_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json={"taskUid": 41})

    answer = _forwarder(handler).deliver("ms-01", 7, ("POST", "/indexes/b/documents", []))
    assert answer == {"taskUid": 41, "error": None}
    origin = Origin.from_headers(seen[-1].headers)
    assert origin == Origin("ms-00", 7, "db-leader")
    assert seen[-1].headers["Authorization"] == "Bearer key-ms-01"
    # The version the write was routed under travels with it (the remote's origin).
    version = "2d9a4c1e-6f0b-4b8e-9a3d-7c5e1f2a0b64"
    _forwarder(handler).deliver("ms-01", 8, ("DELETE", "/indexes/b/documents", None),
                                part=3, network_version=version)  # fmt: skip
    sent = Origin.from_headers(seen[-1].headers)
    assert sent == Origin("ms-00", 8, "db-leader", 3, version)
    assert sent is not None and sent.to_dict() == {
        "remoteName": "ms-00", "taskUid": 8, "networkVersion": version}
    _forwarder(handler).deliver("ms-01", 9, ("DELETE", "/indexes/b/documents", None),
                                network_change=True)  # fmt: skip
    imported = Origin.from_headers(seen[-1].headers)
    assert imported is not None and imported.network_change


def test_a_remote_down_or_failing_answers_a_system_error_and_a_refusal_its_own() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    request = ("DELETE", "/indexes/b/documents", None)
    forwarder = _forwarder(down)
    error = forwarder.deliver("ms-01", 7, request)["error"]  # type: ignore[index]
    assert (error["code"], error["type"]) == ("remote_could_not_be_reached", "system")
    assert forwarder.network.health.status("ms-01") == "unavailable"  # searches skip it
    busy = _forwarder(lambda r: httpx.Response(503, json={"message": "busy"}))
    assert busy.deliver("ms-01", 7, request)["error"]["type"] == "system"  # type: ignore[index]
    left = busy.deliver("ms-09", 7, request)["error"]  # type: ignore[index]
    assert left["type"] == "invalid_request"  # no longer in /network: not asked again
    refuse = _forwarder(lambda r: httpx.Response(
        403, json={"message": "no", "code": "invalid_api_key", "type": "auth"}))
    answer = refuse.deliver("ms-01", 7, request)
    assert answer == {"taskUid": None, "error": {"message": "no", "code": "invalid_api_key",
                                                 "type": "auth"}}  # fmt: skip


def test_a_same_database_remote_is_owed_nothing_more() -> None:
    forwarder = _forwarder(lambda r: httpx.Response(200, json={"sameDatabase": True}))
    request = ("DELETE", "/indexes/b/documents", None)
    assert forwarder.plan() is not None
    assert forwarder.owed({"ms-01": request, "gone": request}) == {"ms-01": request}
    assert forwarder.deliver("ms-01", 8, request) is None
    assert forwarder.owed({"ms-01": request}) == {}
    assert forwarder.plan() is None  # nothing more to forward: they share the database


def test_a_removed_remote_is_sent_a_network_of_its_own() -> None:
    after = _Network().topology  # what the leader's network is now
    before = Topology("ms-00", "ms-00", {**after.remotes, "ms-02": Remote(
        "http://ms-02", None, "key-ms-02")}, {**after.shards, "c": ("ms-02",)})  # fmt: skip
    owed = farewell_requests(before, after)
    assert list(owed) == ["ms-02"]
    method, path, body = owed["ms-02"]
    assert (method, path) == ("PATCH", "/network")
    assert body == {"self": "ms-02", "leader": None, "shards": {},
                    "remotes": {"ms-02": before.remotes["ms-02"].to_dict()}}  # fmt: skip
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"self": "ms-02"})

    # No longer in the leader's network, it is still found: in the farewell itself.
    assert _forwarder(handler).deliver("ms-02", -3, owed["ms-02"]) == {
        "taskUid": None, "error": None}  # fmt: skip
    assert str(seen[0].url) == before.remotes["ms-02"].url + "/network"
    assert seen[0].headers["Authorization"] == f"Bearer {before.remotes['ms-02'].write_api_key}"
