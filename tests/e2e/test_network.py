"""Three `sift serve` on one PostgreSQL database, each holding two of three shards:
`useNetwork` answers every document once, and a dead node's shards come from replicas."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
import pytest

from sift.engine.partition import Partition
from tests.e2e.sift_process import MASTER_KEY, ServerPool, SiftProcess

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

NAMES = ("ms-00", "ms-01", "ms-02")
SHARDS = {"a": ["ms-00", "ms-01"], "b": ["ms-01", "ms-02"], "c": ["ms-02", "ms-00"]}
WORDS = ("river", "stone", "cloud", "ember", "field", "harbor")


def documents(first: int, count: int) -> list[dict[str, Any]]:
    return [
        {"id": i, "title": f"{WORDS[i % 6]} {WORDS[(i // 6) % 6]} number {i}", "n": i,
         "kind": WORDS[i % 6]}
        for i in range(first, first + count)
    ]


def wait_until(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout}s: {check}")
        time.sleep(0.1)


def run(node: SiftProcess, method: str, path: str, body: Any) -> None:
    with node.client() as client:
        answer = client.request(method, path, json=body)
        assert answer.status_code == 202, answer.text
        uid = answer.json()["taskUid"]
        wait_until(lambda: client.get(f"/tasks/{uid}").json()["status"] == "succeeded")


def search(node: SiftProcess, body: dict[str, Any]) -> dict[str, Any]:
    with node.client() as client:
        answer = client.post("/indexes/books/search", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def local_count(node: SiftProcess) -> int:
    """Documents this node holds; -1 while it has not loaded the index yet (a follower
    picks up the leader's batches within about a second)."""
    with node.client() as client:
        answer = client.post("/indexes/books/search", json={"useNetwork": False, "limit": 0})
    if answer.status_code == 404:
        return -1
    assert answer.status_code == 200, answer.text
    return int(answer.json()["estimatedTotalHits"])


@pytest.fixture
def cluster(servers: ServerPool, postgres_database: Any) -> list[SiftProcess]:
    _, _, url = postgres_database
    nodes = [servers.new(name) for name in NAMES]
    reference = servers.new("reference")  # no name in the network: holds every document
    for name, node in zip(NAMES, nodes, strict=True):
        node.start("--database-url", url, "--network-self", name)
    reference.start("--database-url", url)
    return [*nodes, reference]


def test_network_search_spans_shards_once_and_survives_a_dead_node(
    cluster: list[SiftProcess],
) -> None:
    *nodes, reference = cluster
    first = nodes[0]
    run(first, "POST", "/indexes/books/documents", documents(0, 600))
    run(first, "PATCH", "/indexes/books/settings",
        {"sortableAttributes": ["n"], "filterableAttributes": ["n", "kind"]})
    with first.client() as client:
        assert client.patch("/experimental-features", json={"network": True}).status_code == 200
        topology = {
            "leader": "ms-00",
            "remotes": {
                name: {"url": node.url, "searchApiKey": MASTER_KEY}
                for name, node in zip(NAMES, nodes, strict=True)
            },
            "shards": {shard: {"remotes": owners} for shard, owners in SHARDS.items()},
        }
        answer = client.patch("/network", json=topology)
        assert answer.status_code == 202, answer.text  # with a leader: the change's task
        assert answer.json()["type"] == "networkTopologyChange"
        assert client.get("/network").json()["self"] == "ms-00"
    # Written after the topology: the leader's own batches keep only its shards too.
    run(first, "POST", "/indexes/books/documents", documents(600, 300))

    partition = Partition(tuple(SHARDS))
    shard_of = {i: partition.shard_of(str(i)) for i in range(900)}
    sizes = Counter(shard_of.values())
    for name, node in zip(NAMES, nodes, strict=True):
        with node.client() as client:
            wait_until(lambda c=client: c.get("/network").json().get("shards"))
            assert client.get("/network").json()["self"] == name
        held = sum(sizes[s] for s, owners in SHARDS.items() if name in owners)
        wait_until(lambda n=node, h=held: local_count(n) == h)  # two shards of three
    wait_until(lambda: local_count(reference) == 900)  # it follows the batches too
    for query in ({"q": "river stone", "filter": "kind = river"},
                  {"q": "ember harbor", "filter": "n < 250"}, {"q": "clou"}):
        # Every shard scored with the statistics of all: each document's score is the one
        # a node holding every document gives (ties may come in another order).
        asked = {**query, "limit": 1000, "showRankingScore": True}
        alone = search(reference, {**asked, "useNetwork": False})["hits"]
        spanned = search(first, asked)["hits"]
        assert alone and {h["id"]: h["_rankingScore"] for h in spanned} == {
            h["id"]: h["_rankingScore"] for h in alone}, query

    everything = {"q": "", "limit": 1000, "sort": ["n:asc"]}
    expected = [h["id"] for h in search(reference, {**everything, "useNetwork": False})["hits"]]
    assert expected == list(range(900))
    for name, node in zip(NAMES, nodes, strict=True):
        answer = search(node, everything)  # useNetwork is on by default: a leader is set
        hits = answer["hits"]
        assert [h["id"] for h in hits] == expected, name  # each document once, in order
        assert answer["estimatedTotalHits"] == 900 and "remoteErrors" not in answer
        for hit in hits:
            remote = hit["_federation"]["remote"]
            assert remote in SHARDS[shard_of[hit["id"]]]  # asked of an owner of its shard
        # Every shard came from one node only; this node answered for its own shards.
        by_shard = {shard_of[h["id"]]: set() for h in hits}
        for hit in hits:
            by_shard[shard_of[hit["id"]]].add(hit["_federation"]["remote"])
        assert all(len(remotes) == 1 for remotes in by_shard.values())
        assert {s for s, r in by_shard.items() if r == {name}} == {
            s for s, owners in SHARDS.items() if name in owners
        }

    # A text query, paginated, agrees with the single node's ranking.
    query = {"q": "harbor river", "limit": 15, "offset": 5, "sort": ["n:desc"]}
    single = search(reference, {**query, "useNetwork": False})
    merged = search(nodes[1], query)
    assert [h["id"] for h in merged["hits"]] == [h["id"] for h in single["hits"]]
    assert merged["estimatedTotalHits"] == single["estimatedTotalHits"]

    # Page mode: exact totals added over the shards.
    paged = search(nodes[2], {"q": "river", "hitsPerPage": 7, "page": 3, "sort": ["n:asc"]})
    alone = search(reference, {"q": "river", "hitsPerPage": 7, "page": 3, "sort": ["n:asc"],
                               "useNetwork": False})
    assert [h["id"] for h in paged["hits"]] == [h["id"] for h in alone["hits"]]
    assert (paged["totalHits"], paged["totalPages"]) == (alone["totalHits"], alone["totalPages"])

    # The _shard filter, in a network search and locally.
    only_b = search(nodes[0], {**everything, "filter": '_shard = "b"'})
    assert {h["id"] for h in only_b["hits"]} == {i for i in range(900) if shard_of[i] == "b"}

    # Facet values over every shard, counts added.
    with nodes[2].client() as client:
        facets = client.post("/indexes/books/facet-search", json={"facetName": "kind"}).json()
        mine = client.post("/indexes/books/facet-search",
                           json={"facetName": "kind", "useNetwork": False}).json()
    assert {h["value"]: h["count"] for h in facets["facetHits"]} == {w: 150 for w in WORDS}
    assert sum(h["count"] for h in mine["facetHits"]) < 900  # its own two shards only

    # Documents over every shard, each shard asked once: paged in shard order, or sorted.
    with nodes[1].client() as client:
        pages = [client.get("/indexes/books/documents",
                            params={"offset": o, "limit": 250, "fields": "id"}).json()
                 for o in range(0, 900, 250)]  # fmt: skip
        listed = [d["id"] for page in pages for d in page["results"]]
        assert sorted(listed) == list(range(900)) and pages[0]["total"] == 900
        assert [shard_of[i] for i in listed] == sorted(shard_of[i] for i in listed)
        fetched = client.post("/indexes/books/documents/fetch", json={
            "sort": ["n:desc"], "filter": "kind = river", "limit": 5, "offset": 2}).json()
        assert [d["n"] for d in fetched["results"]] == [882, 876, 870, 864, 858]
        assert fetched["total"] == 150
        own = client.get("/indexes/books/documents", params={"useNetwork": "false"}).json()
        assert own["total"] == 900  # its database, shared with the leader, has them all

    # ms-01 dies: ms-00 gets shard b from ms-02, and no error is reported.
    # (Shard b goes to ms-01 or ms-02 at random: after a few searches ms-01 was tried.)
    nodes[1].kill()
    for _ in range(20):
        answer = search(nodes[0], everything)
        assert [h["id"] for h in answer["hits"]] == expected and "remoteErrors" not in answer
        assert "ms-01" not in {h["_federation"]["remote"] for h in answer["hits"]}
        with nodes[0].client() as client:
            status = client.get("/network").json()["remotes"]["ms-01"]["status"]
        if status == "unavailable":
            break
    assert status == "unavailable"

    # ms-02 dies too: shard b has no owner left; the answer says so and keeps the rest.
    nodes[2].kill()
    answer = search(nodes[0], everything)
    assert {h["id"] for h in answer["hits"]} == {i for i in range(900) if shard_of[i] != "b"}
    assert set(answer["remoteErrors"]) == {"ms-01", "ms-02"}
    with nodes[0].client() as client:  # a listing missing shard b would look whole
        listing = client.get("/indexes/books/documents")
    assert listing.status_code == 502, listing.text

    # Federated multi-search with useNetwork on one query and a local one beside it.
    with nodes[0].client() as client:
        multi = client.post("/multi-search", json={
            "federation": {"limit": 5},
            "queries": [
                {"indexUid": "books", "q": "stone", "useNetwork": True},
                {"indexUid": "books", "q": "stone", "useNetwork": False},
            ],
        })
    assert multi.status_code == 200, multi.text
    positions = {h["_federation"]["queriesPosition"] for h in multi.json()["hits"]}
    assert positions <= {0, 1} and multi.json()["hits"]


def test_remotes_without_shards_each_answer_for_themselves(
    servers: ServerPool,
) -> None:
    """Two nodes with databases of their own: a network of remotes, no shards."""
    nodes = [servers.new(name) for name in ("ms-00", "ms-01")]
    for name, node in zip(("ms-00", "ms-01"), nodes, strict=True):
        node.start("--network-self", name)
    run(nodes[0], "POST", "/indexes/books/documents", documents(0, 10))
    run(nodes[1], "POST", "/indexes/books/documents", documents(10, 10))
    topology = {"remotes": {
        "ms-00": {"url": nodes[0].url, "searchApiKey": MASTER_KEY},
        "ms-01": {"url": nodes[1].url, "searchApiKey": MASTER_KEY},
    }}
    for node in nodes:
        with node.client() as client:
            client.patch("/experimental-features", json={"network": True})
            assert client.patch("/network", json=topology).status_code == 200
    # No leader: useNetwork is off unless asked for.
    assert search(nodes[0], {"limit": 50})["estimatedTotalHits"] == 10
    hits = search(nodes[0], {"limit": 50, "useNetwork": True})["hits"]
    assert sorted(h["id"] for h in hits) == list(range(20))
    assert {h["_federation"]["remote"] for h in hits if h["id"] >= 10} == {"ms-01"}
    # A federated multi-search may name the node of each query itself.
    with nodes[1].client() as client:
        multi = client.post("/multi-search", json={"federation": {"limit": 50}, "queries": [
            {"indexUid": "books", "q": "number", "federationOptions": {"remote": "ms-00"}},
            {"indexUid": "books", "q": "number", "federationOptions": {"remote": "ms-01"}},
        ]}).json()
    assert sorted(h["id"] for h in multi["hits"]) == list(range(20))
    assert {h["_federation"]["remote"] for h in multi["hits"] if h["id"] < 10} == {"ms-00"}
    refused = httpx.post(f"{nodes[1].url}/indexes/books/search", json={"useNetwork": "yes"},
                         headers=nodes[1].headers)
    assert refused.json()["code"] == "invalid_search_use_network"


def test_a_topology_change_moves_a_shard_to_another_node(
    cluster: list[SiftProcess],
) -> None:
    *nodes, reference = cluster
    run(nodes[0], "POST", "/indexes/books/documents", documents(0, 300))
    run(nodes[0], "PATCH", "/indexes/books/settings", {"sortableAttributes": ["n"]})
    single = {"a": ["ms-00"], "b": ["ms-01"], "c": ["ms-02"]}
    with nodes[0].client() as client:
        client.patch("/experimental-features", json={"network": True})
        assert client.patch("/network", json={
            "leader": "ms-00",
            "remotes": {name: {"url": node.url, "searchApiKey": MASTER_KEY}
                        for name, node in zip(NAMES, nodes, strict=True)},
            "shards": {shard: {"remotes": owners} for shard, owners in single.items()},
        }).status_code == 202
    partition = Partition(tuple(single))
    sizes = Counter(partition.shard_of(str(i)) for i in range(300))
    wait_until(lambda: [local_count(n) for n in nodes] == [sizes["a"], sizes["b"], sizes["c"]])

    # Shard a moves from ms-00 to ms-01: ms-00 then holds nothing, ms-01 two shards. The
    # change is the leader's to make; the others read it from the database they share.
    with nodes[2].client() as client:
        refused = client.patch("/network", json={"shards": {"a": {"remotes": ["ms-01"]}}})
        assert refused.status_code == 400 and refused.json()["code"] == "not_a_leader"
    with nodes[0].client() as client:
        moved = client.patch("/network", json={
            "shards": {"a": {"addRemotes": ["ms-01"], "removeRemotes": ["ms-00"]}},
        })
        assert moved.status_code == 202, moved.text
        assert client.get("/network").json()["shards"]["a"] == {"remotes": ["ms-01"]}
    wait_until(lambda: [local_count(n) for n in nodes] == [0, sizes["a"] + sizes["b"],
                                                           sizes["c"]])
    answer = search(nodes[0], {"q": "", "limit": 500, "sort": ["n:asc"]})
    assert [h["id"] for h in answer["hits"]] == list(range(300))
    assert {h["_federation"]["remote"] for h in answer["hits"]} == {"ms-01", "ms-02"}
    assert local_count(reference) == 300
