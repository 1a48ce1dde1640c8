"""What each remote gains and loses when the leader's shards change (cluster/rebalance.py)."""

from __future__ import annotations

from sift.cluster.rebalance import changed, moves
from sift.engine.partition import Partition

IDS = [str(i) for i in range(500)]


def test_a_shard_changing_owners_moves_its_documents_between_them() -> None:
    before = {"a": ("ms-00", "ms-01"), "b": ("ms-01",), "c": ("ms-02",)}
    after = {**before, "c": ("ms-01",)}
    shard = Partition(tuple(before)).shard_of
    share = moves(before, after, IDS, ["ms-01", "ms-02"])
    in_c = [i for i, d in enumerate(IDS) if shard(d) == "c"]
    assert share["ms-01"].gained == in_c and share["ms-01"].lost == []
    assert share["ms-02"].lost == in_c and share["ms-02"].gained == []


def test_a_new_shard_takes_documents_from_every_other() -> None:
    before = {"a": ("ms-00",), "b": ("ms-01",)}
    after = {**before, "c": ("ms-02",)}
    share = moves(before, after, IDS, ["ms-00", "ms-01", "ms-02"])
    new = Partition(tuple(after)).shard_of
    # Rendezvous hashing: only the documents entering `c` move, from both old shards.
    assert share["ms-02"].gained == [i for i, d in enumerate(IDS) if new(d) == "c"]
    assert sorted(share["ms-00"].lost + share["ms-01"].lost) == share["ms-02"].gained
    assert share["ms-00"].lost and share["ms-01"].lost
    assert share["ms-00"].gained == share["ms-01"].gained == []


def test_before_any_sharding_every_remote_gains_all_it_owns() -> None:
    after = {"a": ("ms-00", "ms-01"), "b": ("ms-01",)}
    share = moves({}, after, IDS, ["ms-01"])
    assert share["ms-01"].gained == list(range(len(IDS))) and share["ms-01"].lost == []


def test_owners_in_another_order_change_nothing() -> None:
    assert not changed({"a": ("x", "y")}, {"a": ("y", "x")})
    assert changed({"a": ("x",)}, {"a": ("x",), "b": ("x",)})
