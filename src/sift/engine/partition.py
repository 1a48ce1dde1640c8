"""Documents split into named shards by a stable hash of their id.

Rendezvous hashing: a document belongs to the shard whose name, hashed together with the
document's id, scores highest. Every node computes the same shard for a document without
talking to the others, and adding or removing a shard moves only the documents that
enter or leave it. An index may hold only some shards (``held``); every held document is
labelled with its shard so the ``_shard`` filter can select by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import blake2b

SHARD_FIELD = "_shard"


def _score(shard: str, doc_id: str) -> int:
    digest = blake2b(f"{shard}\x00{doc_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@dataclass(frozen=True)
class Partition:
    shards: tuple[str, ...]
    held: frozenset[str] | None = None  # None: every shard

    def __post_init__(self) -> None:
        if not self.shards:
            raise ValueError("a partition needs at least one shard")
        # Sorted: max() keeps the first of equal scores, so ties break alike everywhere.
        object.__setattr__(self, "shards", tuple(sorted(set(self.shards))))

    def shard_of(self, doc_id: str) -> str:
        return max(self.shards, key=lambda shard: _score(shard, doc_id))

    def holds(self, shard: str) -> bool:
        return self.held is None or shard in self.held


def shard_filter(shards: tuple[str, ...]) -> str:
    """The filter selecting the documents of ``shards``: ``_shard IN ["a", "b"]``."""
    quoted = ", ".join('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in shards)
    return f"{SHARD_FIELD} IN [{quoted}]"
