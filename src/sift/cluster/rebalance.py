"""Which documents each remote gains and loses when the leader's shards change
(Meilisearch's ``networkTopologyChange``).

Pure: the shard maps (shard name -> owning remotes) before and after a ``PATCH /network``
and document ids in, each remote's share out. A document's shard comes from
``Partition.shard_of`` over the shard names, so renaming, adding or removing a shard
moves documents between shards (rendezvous hashing moves only those entering or
leaving one), and changing a shard's owners moves its documents between remotes. Before
any sharding, a remote owned nothing: the first sharded network sends each remote all
of its shards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sift.engine.partition import Partition

Shards = Mapping[str, tuple[str, ...]]
TASK_TYPE = "networkTopologyChange"  # run by tasks/topology.py


@dataclass
class Moves:
    """One remote's share of a topology change: documents (positions in the ids given)
    it now holds and did not, and those it held and no longer does."""

    gained: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)


def changed(before: Shards, after: Shards) -> bool:
    """Whether any document changes owners between the two shard maps."""
    return {s: set(o) for s, o in before.items()} != {s: set(o) for s, o in after.items()}


def task_params(before: Shards, after: Shards, version: str) -> dict[str, Any]:
    """What the task stores: the shard maps of its change and the network version the
    change drew (its writes to remotes name it)."""
    return {"shards": {"before": {s: list(o) for s, o in before.items()},
                       "after": {s: list(o) for s, o in after.items()}},
            "networkVersion": version}  # fmt: skip


def owners(shards: Shards) -> set[str]:
    return {remote for owning in shards.values() for remote in owning}


def moves(before: Shards, after: Shards, ids: Iterable[str],
          remotes: Iterable[str]) -> dict[str, Moves]:  # fmt: skip
    """Each of ``remotes``' documents gained and lost among ``ids``."""
    old = Partition(tuple(before)) if before else None
    new = Partition(tuple(after)) if after else None
    wanted = {remote: Moves() for remote in remotes}
    for position, doc_id in enumerate(ids):
        had = set(before[old.shard_of(doc_id)]) if old is not None else set()
        has = set(after[new.shard_of(doc_id)]) if new is not None else set()
        for remote in has - had:
            if remote in wanted:
                wanted[remote].gained.append(position)
        for remote in had - has:
            if remote in wanted:
                wanted[remote].lost.append(position)
    return wanted
