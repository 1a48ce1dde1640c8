"""`useNetwork` on the document routes: two in-process nodes (each its own database
holding the same documents, each building only its shards), the leader's HTTP client
routed to the other node's app; a third remote that refuses connections."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from sift import catalog as catalog_module
from sift.engine.partition import Partition, shard_filter
from tests.conftest import make_client, run_task

DOCS = [{"id": i, "n": i, "title": f"book {i}"} for i in range(30)]
SHARDS = ("s1", "s2")
SETTINGS = {"sortableAttributes": ["n"], "filterableAttributes": ["n"]}


class Routes(httpx.BaseTransport):
    """Requests to host ``b`` go to node B's app; any other host refuses the connection."""

    def __init__(self, b: TestClient) -> None:
        self.b = b

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host != "b":
            raise httpx.ConnectError("connection refused", request=request)
        answer = self.b._transport.handle_request(request)  # type: ignore[attr-defined]
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.read())


def network(shards: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "leader": "ms-00",
        "remotes": {
            "ms-00": {"url": "http://a"},
            "ms-01": {"url": "http://b", "searchApiKey": "k1"},
            "ms-02": {"url": "http://dead"},
        },
        "shards": {name: {"remotes": owners} for name, owners in shards.items()},
    }


def start(a: TestClient, b: TestClient, shards: dict[str, list[str]]) -> None:
    # Node A reaches B through B's app for its listings. What its outbox sends (the
    # leader's network) is taken by a stand-in, so no failed send marks B down behind
    # the test's back.
    network_a = a.app.state.services.network  # type: ignore[attr-defined]
    network_a.searcher.client = httpx.Client(transport=Routes(b))
    network_a.forwarder.client = httpx.Client(transport=httpx.MockTransport(
        lambda request: httpx.Response(202, json={"taskUid": 0})))
    for client, name in ((b, "ms-01"), (a, "ms-00")):
        run_task(client, "POST", "/indexes/books/documents", json=DOCS)
        run_task(client, "PATCH", "/indexes/books/settings", json=SETTINGS)
        assert client.patch("/experimental-features", json={"network": True}).is_success
        assert client.patch("/network", json={**network(shards), "self": name}).status_code == 202
    every_shard = {"useNetwork": False, "filter": [shard_filter(SHARDS)], "limit": 0}
    for client in (a, b):
        deadline = time.monotonic() + 10
        # The worker rebuilds the indexes for the new partition between batches; until
        # then `_shard` is not filterable.
        while not client.post("/indexes/books/documents/fetch", json=every_shard).is_success:
            assert time.monotonic() < deadline, "the partition was never applied"
            time.sleep(0.05)
    assert network_a.health.available("ms-01")


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    with contextlib.ExitStack() as stack:
        a = stack.enter_context(make_client(tmp_path / "a"))
        b = stack.enter_context(make_client(tmp_path / "b"))
        yield a, b


def held_by(shard: str) -> set[int]:
    part = Partition(SHARDS)
    return {d["id"] for d in DOCS if part.shard_of(str(d["id"])) == shard}


def ids(answer: httpx.Response) -> list[int]:
    assert answer.status_code == 200, answer.text
    return [d["id"] for d in answer.json()["results"]]


def test_the_network_lists_every_document_once_page_by_page(
    nodes: tuple[TestClient, TestClient],
) -> None:
    a, b = nodes
    start(a, b, {"s1": ["ms-00"], "s2": ["ms-01"]})
    assert 0 < len(held_by("s1")) < len(DOCS)
    everything = a.get("/indexes/books/documents", params={"useNetwork": "true", "limit": 100})
    assert everything.json()["total"] == len(DOCS)
    listed = ids(everything)
    assert sorted(listed) == list(range(30))
    # Shard after shard, in the order of their names: s1's documents, then s2's.
    assert set(listed[: len(held_by("s1"))]) == held_by("s1")
    # With a leader, useNetwork is on by default (Meilisearch's default), and pages
    # put together give the whole listing again.
    pages = [ids(a.post("/indexes/books/documents/fetch", json={"offset": o, "limit": 7}))
             for o in range(0, 30, 7)]  # fmt: skip
    assert [i for page in pages for i in page] == listed
    # useNetwork false: only this node's own database (here every document).
    own = a.get("/indexes/books/documents", params={"useNetwork": "false", "limit": 100})
    assert own.json()["total"] == len(DOCS)


def test_a_sorted_filtered_listing_merges_the_shards_by_the_sort(
    nodes: tuple[TestClient, TestClient], monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = nodes
    start(a, b, {"s1": ["ms-00"], "s2": ["ms-01"]})

    def full_view(*_: Any) -> Any:
        raise AssertionError("a leg on held shards read every row to filter them")

    # Each node filters its leg with its own index: it holds the leg's shards.
    monkeypatch.setattr(catalog_module.doc_rows, "iter_all", full_view)
    body = {"useNetwork": True, "sort": ["n:desc"], "filter": "n < 20", "offset": 2,
            "limit": 4, "fields": ["id"]}
    answer = a.post("/indexes/books/documents/fetch", json=body)
    assert ids(answer) == [17, 16, 15, 14]
    assert all(set(d) == {"id"} for d in answer.json()["results"])  # `n` asked, not shown
    assert answer.json()["total"] == 20
    wanted = sorted(held_by("s2"))[:3]
    picked = a.post("/indexes/books/documents/fetch",
                    json={"ids": [str(i) for i in wanted], "sort": ["n:asc"]})
    assert ids(picked) == wanted


def test_one_document_comes_from_the_node_holding_its_shard(
    nodes: tuple[TestClient, TestClient],
) -> None:
    a, b = nodes
    start(a, b, {"s1": ["ms-00"], "s2": ["ms-01"]})
    remote_only = min(held_by("s2"))
    answer = a.get(f"/indexes/books/documents/{remote_only}",
                   params={"useNetwork": "true", "fields": "title"})
    assert answer.status_code == 200 and answer.json() == {"title": f"book {remote_only}"}
    missing = a.get("/indexes/books/documents/999")
    assert missing.status_code == 404 and missing.json()["code"] == "document_not_found"


def test_a_shard_whose_node_is_down_comes_from_a_replica(
    nodes: tuple[TestClient, TestClient],
) -> None:
    a, b = nodes
    start(a, b, {"s1": ["ms-00"], "s2": ["ms-02", "ms-01"]})
    for _ in range(4):  # whichever owner is picked first, every document comes back
        assert sorted(ids(a.get("/indexes/books/documents", params={"limit": 100}))) == \
            list(range(30))


def test_a_shard_no_owner_answers_fails_the_listing(
    nodes: tuple[TestClient, TestClient],
) -> None:
    a, b = nodes
    start(a, b, {"s1": ["ms-00"], "s2": ["ms-02"]})
    answer = a.get("/indexes/books/documents", params={"limit": 100})
    assert answer.status_code == 502
    assert answer.json()["code"] == "remote_could_not_send_request"


def test_use_network_is_validated_and_needs_the_feature(client: TestClient) -> None:
    run_task(client, "POST", "/indexes/books/documents", json=DOCS[:3])
    # Without a network, no useNetwork: this node's documents, as always.
    assert ids(client.get("/indexes/books/documents")) == [0, 1, 2]
    for answer in (
        client.get("/indexes/books/documents", params={"useNetwork": "yes"}),
        client.get("/indexes/books/documents/1", params={"useNetwork": "1"}),
        client.post("/indexes/books/documents/fetch", json={"useNetwork": "true"}),
    ):
        assert answer.status_code == 400, answer.text
        assert answer.json()["code"] == "invalid_document_use_network"
    off = client.post("/indexes/books/documents/fetch", json={"useNetwork": True})
    assert off.status_code == 400 and off.json()["code"] == "feature_not_enabled"
    assert ids(client.post("/indexes/books/documents/fetch",
                           json={"useNetwork": False, "limit": 2})) == [0, 1]
    assert client.post("/indexes/books/documents/fetch", json={"useNetwork": None}).is_success
