"""The statistics round of a network search: every node asked once, in parallel, with its
search key; the sum travels with the search; no round where it would change nothing."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from sift.cluster.fanout import NetworkSearch
from sift.cluster.health import RemoteHealth
from sift.cluster.statistics import STATISTICS, needed
from sift.cluster.topology import Remote, Topology
from sift.engine.corpus.stats import SLOTS, CorpusStats, WordFacts

NAMES = ("ms-00", "ms-01", "ms-02")
TOPOLOGY = Topology(
    self_name="ms-00",
    leader="ms-00",
    remotes={name: Remote(f"http://node-{i}", f"key-{i}") for i, name in enumerate(NAMES)},
    shards={"a": ("ms-00",), "b": ("ms-01",), "c": ("ms-02",)},
)


def stats(documents: int) -> dict[str, Any]:
    return CorpusStats(documents, {"title": (documents * 3, documents)},
                       ((documents,) * SLOTS,), (WordFacts(documents),)).to_json()


def searcher(answer: Any) -> tuple[NetworkSearch, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    network = NetworkSearch(RemoteHealth(), timeout=1.0)
    network.client = httpx.Client(transport=httpx.MockTransport(handle))
    return network, seen


def test_every_node_is_asked_once_and_the_sum_goes_with_the_search() -> None:
    network, seen = searcher(lambda r: httpx.Response(200, json=stats(int(r.url.host[-1]))))
    local: list[Any] = []
    body = network.with_statistics(TOPOLOGY, "books", {"q": "dune"},
                                   lambda asked: local.append(asked) or stats(10))
    assert body[STATISTICS] == CorpusStats(13, {"title": (39, 13)}, ((13,) * SLOTS,),
                                           (WordFacts(13),)).to_json()
    assert local[0]["shards"] == ["a"] and local[0]["query"]["filter"] == ['_shard IN ["a"]']
    assert sorted((r.url.host, r.url.path, r.headers["authorization"]) for r in seen) == [
        ("node-1", "/indexes/books/search/statistics", "Bearer key-1"),
        ("node-2", "/indexes/books/search/statistics", "Bearer key-2")]
    assert sorted(orjson.loads(r.content)["shards"][0] for r in seen) == ["b", "c"]


def test_a_node_without_statistics_leaves_each_shard_its_own() -> None:
    network, _ = searcher(lambda r: httpx.Response(404, json={"message": "not found"}))
    body = network.with_statistics(TOPOLOGY, "books", {"q": "dune"}, lambda _: stats(10))
    assert body == {"q": "dune"}


def test_no_round_where_one_node_answers_every_shard() -> None:
    replicas = Topology("ms-00", "ms-00", TOPOLOGY.remotes, {"a": NAMES, "b": NAMES})
    network, seen = searcher(lambda r: httpx.Response(200, json=stats(1)))
    body = network.with_statistics(replicas, "books", {"q": "dune"}, lambda _: stats(10))
    assert body == {"q": "dune"} and seen == []


def test_only_relevance_with_words_needs_statistics() -> None:
    assert needed({"q": "dune"}, ["words", "relevance"])
    assert not needed({"q": "dune"}, ["words", "typo", "proximity"])
    assert not needed({"q": "  "}, ["relevance"]) and not needed({}, ["relevance"])
