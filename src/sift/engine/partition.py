"""Documents split into named shards by a stable hash of their id.

Rendezvous hashing: a document belongs to the shard whose name, hashed together with the
document's id, scores highest. Every node computes the same shard for a document without
talking to the others, and adding or removing a shard moves only the documents that
enter or leave it. An index may hold only some shards (``held``); every held document is
labelled with its shard so the ``_shard`` filter can select by it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any

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


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def selected_shards(expr: Any) -> tuple[str, ...] | None:
    """The shards a filter is restricted to by a leading :func:`shard_filter` (the form
    a network request's legs are sent with, ``[shard_filter(...), own filter...]``), or
    None: a filter that selects documents of any shard."""
    if not isinstance(expr, list) or not expr or not isinstance(expr[0], str):
        return None
    head = expr[0]
    if not head.startswith(f"{SHARD_FIELD} IN ["):
        return None
    names = tuple(re.sub(r"\\(.)", r"\1", m) for m in _QUOTED.findall(head))
    # Only the exact form shard_filter writes: anything else is an ordinary filter.
    return names if names and shard_filter(names) == head else None
