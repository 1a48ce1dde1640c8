"""Planning a network search: each shard once, the local node first, replicas on failure."""

from __future__ import annotations

import random

from sift.cluster.fanout import plan, shard_filter
from sift.cluster.topology import Remote, Topology

TOPOLOGY = Topology(
    self_name="ms-00",
    leader="ms-00",
    remotes={name: Remote(f"http://127.0.0.1:77{i:02d}") for i, name in
             enumerate(("ms-00", "ms-01", "ms-02"))},
    shards={"a": ("ms-00", "ms-01"), "b": ("ms-01", "ms-02"), "c": ("ms-02", "ms-00")},
)


def covered(legs: list) -> list[str]:
    return sorted(s for leg in legs for s in leg.shards)


def test_each_shard_is_planned_once_and_local_shards_stay_local() -> None:
    for seed in range(20):
        legs, orphans = plan(TOPOLOGY, lambda _: True, rng=random.Random(seed))
        assert covered(legs) == ["a", "b", "c"] and orphans == []
        local = next(leg for leg in legs if leg.remote == "ms-00")
        assert set(local.shards) == {"a", "c"}
        assert len({leg.remote for leg in legs}) == len(legs)  # one request per node


def test_a_down_remote_leaves_its_shards_to_replicas() -> None:
    legs, orphans = plan(TOPOLOGY, lambda name: name != "ms-01")
    assert covered(legs) == ["a", "b", "c"] and orphans == []
    assert {leg.remote for leg in legs} == {"ms-00", "ms-02"}
    legs, orphans = plan(TOPOLOGY, lambda name: name == "ms-00")
    assert covered(legs) == ["a", "c"] and orphans == ["b"]


def test_without_shards_every_remote_is_asked_for_everything() -> None:
    flat = Topology("ms-00", None, TOPOLOGY.remotes, {})
    legs, orphans = plan(flat, lambda _: True)
    assert sorted(leg.remote for leg in legs) == ["ms-00", "ms-01", "ms-02"]
    assert all(leg.shards is None for leg in legs) and orphans == []


def test_the_shard_filter_joins_the_query_filter() -> None:
    body = shard_filter({"q": "x", "filter": "genre = sf"}, ("a", 'q"x'))
    assert body["filter"] == ['_shard IN ["a", "q\\"x"]', "genre = sf"]
    assert shard_filter({"q": "x"}, None) == {"q": "x"}
