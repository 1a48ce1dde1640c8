"""The last word on order: a key every node derives from a document's id alone.

Hits whose ranking keys are all equal (the same score under every rule) used to follow
the internal docid, i.e. the order documents were loaded in, which differs between a
live node and one rebuilt from the database, and between nodes holding different
shards, so no network merge could reproduce it. Instead they follow a fixed 64-bit hash
of the primary key value, as the string the index stores it under: the same on every
node, database and restart, and computable by a merge from the hit itself.

The hash is 64-bit FNV-1a over the id's UTF-8 bytes, finished with splitmix64's mixer
(FNV alone leaves ids that differ in their last digit close together), in one compiled
pass over a batch: hashlib's blake2b cost ~1 us per id in its call overhead alone, a few
per cent of indexing a document. Changing the function changes the order of ties, so it
is fixed: tests pin its values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sift.engine.kernels import compiled, put_first
from sift.engine.store import Snapshot


@compiled
def _hash_ids(data, ends):  # pragma: no cover - compiled
    """FNV-1a + splitmix64 of each ``data[ends[i-1]:ends[i]]``."""
    out = np.empty(ends.size, np.uint64)
    start = 0
    for i in range(ends.size):
        h = np.uint64(0xCBF29CE484222325)
        for j in range(start, ends[i]):
            h = (h ^ np.uint64(data[j])) * np.uint64(0x100000001B3)
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        out[i] = h ^ (h >> np.uint64(31))
        start = ends[i]
    return out


def tie_keys(doc_ids: Sequence[str]) -> np.ndarray:
    """The tie-break key (uint64, lower first) of each external id in ``doc_ids``."""
    if not doc_ids:
        return np.empty(0, np.uint64)
    data = "".join(doc_ids).encode()
    lengths = np.fromiter(map(len, doc_ids), dtype=np.int64, count=len(doc_ids))
    if len(data) != int(lengths.sum()):  # not ASCII: lengths in bytes
        lengths = np.fromiter((len(i.encode()) for i in doc_ids), np.int64, len(doc_ids))
    return _hash_ids(np.frombuffer(data, np.uint8), np.cumsum(lengths))


def tie_key(doc_id: str) -> int:
    """The tie key of one id (a merge's, per hit)."""
    return int(tie_keys([doc_id])[0])


def hit_id(value: object) -> str | None:
    """The external id of a hit whose primary key field holds ``value`` (an integer id is
    stored as its decimal string); None when it holds no valid id."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else None


# At most this many documents, a search without words or sort sorts its own tie keys
# (a stable sort of 4,096 keys: about 0.1 ms) instead of walking the snapshot's order.
FEW_TIED = 4096


@compiled
def _first_marked(perm, mask, need):  # pragma: no cover - compiled
    """The first ``need`` docids of ``perm`` whose ``mask`` is set."""
    out = np.empty(need, np.int64)
    k = 0
    for i in range(perm.size):
        if k == need:
            break
        d = perm[i]
        if mask[d]:
            out[k] = d
            k += 1
    return out[:k]


def all_tied(snap: Snapshot, mask: np.ndarray, docids: np.ndarray, need: int | None
             ) -> np.ndarray:
    """Positions in ``docids`` (the sorted docids set in ``mask``) by tie key, only the
    first ``need`` guaranteed (None: all): the order of a search where every document
    ties (no words, no sort).

    Sorting each search's documents by tie key cost a placeholder search 1.7x; the
    snapshot's documents are sorted once instead, when one is first searched so, and a
    page walks that order until it has ``need`` of the search's documents. A search
    with few documents (a filter on an id, a narrow category) sorts its own keys: under
    a stream of writes each batch makes a new snapshot, and sorting its whole order
    again, for a lookup of one document, took the first such search after every batch
    ~100 ms on a busy 200k-document index (the sync benchmark's probe). Both give the
    same order: by tie key, then docid."""
    n = docids.size
    if n <= FEW_TIED:
        order = np.argsort(snap.tie[docids], kind="stable")
        return order if need is None or need >= n else put_first(order[: max(need, 0)], n)
    perm = snap.cached("tie_order",
                       lambda: np.argsort(snap.tie, kind="stable").astype(np.uint32))
    if need is None or need >= n:
        position = np.cumsum(mask) - 1
        return position[perm[mask[perm]]]
    return put_first(np.searchsorted(docids, _first_marked(perm, mask, max(need, 0))), n)
