"""A partitioned index holds only its shards' documents and filters by `_shard`."""

from __future__ import annotations

from collections import Counter

import pytest

from sift.engine.index import SearchIndex
from sift.engine.partition import Partition, selected_shards, shard_filter
from sift.engine.query import SearchParams
from sift.engine.settings import default_settings
from sift.errors import SiftError

SHARDS = ("shard-a", "shard-b", "shard-c")


def test_every_id_has_one_stable_shard_and_shards_are_balanced() -> None:
    part = Partition(SHARDS)
    labels = [part.shard_of(str(i)) for i in range(3000)]
    assert labels == [Partition(tuple(reversed(SHARDS))).shard_of(str(i)) for i in range(3000)]
    counts = Counter(labels)
    assert set(counts) == set(SHARDS)
    assert all(800 < n < 1200 for n in counts.values()), counts


def test_adding_a_shard_moves_only_documents_into_it() -> None:
    before, after = Partition(SHARDS), Partition((*SHARDS, "shard-d"))
    moved = [i for i in range(2000) if before.shard_of(str(i)) != after.shard_of(str(i))]
    assert moved and all(after.shard_of(str(i)) == "shard-d" for i in moved)


def index_with(partition: Partition | None) -> SearchIndex:
    settings = {**default_settings("sift"), "filterableAttributes": ["genre"]}
    index = SearchIndex(settings, "id", partition)
    index.upsert([(str(i), {"id": i, "title": f"book {i}", "genre": "sf"}) for i in range(300)])
    return index


def ids(index: SearchIndex, **body: object) -> set[int]:
    result = index.search(SearchParams.from_dict({"limit": 1000, **body}))
    return {hit["id"] for hit in result["hits"]}


def test_an_index_holds_only_its_shards_and_hits_carry_no_label() -> None:
    part = Partition(SHARDS, frozenset({"shard-a"}))
    index = index_with(part)
    held = ids(index, q="book")
    assert held == {i for i in range(300) if part.shard_of(str(i)) == "shard-a"}
    hit = index.search(SearchParams.from_dict({"q": "book", "limit": 1}))["hits"][0]
    assert "_shard" not in hit


def test_shard_filters_select_by_label() -> None:
    part = Partition(SHARDS)
    index = index_with(part)
    of = {s: {i for i in range(300) if part.shard_of(str(i)) == s} for s in SHARDS}
    assert ids(index, filter='_shard = "shard-b"') == of["shard-b"]
    assert ids(index, filter='_shard != "shard-b"') == of["shard-a"] | of["shard-c"]
    assert ids(index, filter=['_shard IN ["shard-a", "shard-c"]', "genre = sf"]) == (
        of["shard-a"] | of["shard-c"]
    )


def test_without_a_partition_shard_is_not_filterable() -> None:
    with pytest.raises(SiftError) as caught:
        ids(index_with(None), filter='_shard = "shard-a"')
    assert caught.value.code == "invalid_search_filter"


def test_selected_shards_reads_back_only_the_filter_a_network_leg_is_sent_with() -> None:
    for names in (("a",), ("s1", "s2"), ('we"ird', "back\\slash")):
        assert selected_shards([shard_filter(names), "n = 1"]) == names
    # Anything else selects documents of any shard: the full view answers it.
    assert selected_shards(shard_filter(("a",))) is None  # not a leg's list
    assert selected_shards(['_shard IN ["a"] OR n = 1']) is None
    assert selected_shards(['_shard IN ["a","b"]']) is None  # not shard_filter's spacing
    assert selected_shards(["n = 1", shard_filter(("a",))]) is None
    assert selected_shards([]) is None
