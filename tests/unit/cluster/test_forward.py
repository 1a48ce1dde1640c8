"""The leader's split of a document task among the remotes (cluster/forward.py)."""

from __future__ import annotations

from typing import Any

import httpx

from sift.cluster.forward import Forwarder, requests_for, split
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
    forwarder = Forwarder(_Network(), sleep=lambda _: None)  # type: ignore[arg-type]
    forwarder.client = httpx.Client(transport=httpx.MockTransport(handler))
    return forwarder


def test_a_remote_is_sent_the_origin_and_retried_while_down() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) < 3:
            return httpx.Response(503, json={"message": "busy"})
        return httpx.Response(202, json={"taskUid": 41})

    answer = _forwarder(handler).send(7, {"ms-01": ("POST", "/indexes/b/documents", [])})
    assert answer == {"ms-01": {"taskUid": 41, "error": None}}
    assert len(seen) == 3
    origin = Origin.from_headers(seen[-1].headers)
    assert origin == Origin("ms-00", 7, "db-leader")
    assert seen[-1].headers["Authorization"] == "Bearer key-ms-01"


def test_a_refusal_is_recorded_at_once_and_a_same_database_remote_is_skipped() -> None:
    calls: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(403, json={"message": "no", "code": "invalid_api_key"})

    answer = _forwarder(refuse).send(7, {"ms-01": ("DELETE", "/indexes/b/documents", None)})
    assert answer["ms-01"]["taskUid"] is None and answer["ms-01"]["error"]["code"] == (
        "invalid_api_key")
    assert len(calls) == 1

    forwarder = _forwarder(lambda r: httpx.Response(200, json={"sameDatabase": True}))
    assert forwarder.plan() is not None
    assert forwarder.send(8, {"ms-01": ("DELETE", "/indexes/b/documents", None)}) == {}
    assert forwarder.plan() is None  # nothing more to forward: they share the database


def test_a_remote_down_is_not_waited_on_again_for_the_next_tasks() -> None:
    calls: list[str] = []

    def down(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        raise httpx.ConnectError("refused", request=request)

    forwarder = _forwarder(down)
    request = ("DELETE", "/indexes/b/documents", None)
    first = forwarder.send(7, {"ms-01": request})["ms-01"]
    assert first["error"]["code"] == "remote_could_not_be_reached" and len(calls) == 4
    second = forwarder.send(8, {"ms-01": request})["ms-01"]
    assert second["taskUid"] is None and second["error"]["code"] == (
        "remote_could_not_be_reached")
    assert len(calls) == 4  # not asked again while marked down
