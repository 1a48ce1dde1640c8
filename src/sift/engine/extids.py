"""Internal docid -> external document id, without a string per document.

Ids are searchable, so most external ids (numbers, lowercase words) are also terms of the
index: for those, the term's id sits in an int32 array at the docid, and the id's string
is made from the term table when asked for (a page's hits, a rule's pinned documents).
A list of the ids' strings kept ~60 bytes a document (~12 MiB at 200k products, where
every id is a term). Ids that are no term (``SKU-12`` is the terms ``sku`` and ``12``;
any id when the id is not searchable) are rows of a second table of the same kind
(``others``, shared with sift.engine.docids), kept at the docid as ``-2 - row``: a dict
by docid of their strings kept ~135 bytes a document (~25.7 MiB of the 200k products,
whose ids are not searchable).

Append-only, as the docids: a snapshot shares the writer's object and asks only for
docids below its own count; the array grows into a new buffer (readers holding the old
one see the same first rows).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from sift.engine.terms import TermTable

_NOT_A_TERM = -1
# At a docid, an id that is no term: its row in ``others`` as -2 - row (below _NOT_A_TERM).
_FIRST_OTHER = -2


class ExternalIds:
    """The external id of each internal docid (a sequence of strings)."""

    def __init__(self, terms: TermTable, others: TermTable | None = None) -> None:
        self._terms = terms
        self._others = TermTable() if others is None else others
        # A term's id, or -2 - the row in ``others``; the first _n rows are in use.
        self._tids = np.zeros(0, dtype=np.int32)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, docid: int) -> str:
        if docid < 0:
            docid += self._n
        if not 0 <= docid < self._n:
            raise IndexError(docid)
        tid = int(self._tids[docid])
        return self._terms[tid] if tid >= 0 else self._others[_FIRST_OTHER - tid]

    def __iter__(self) -> Iterator[str]:
        n = self._n
        tids = self._tids[:n]
        out = np.array(self._terms.strings(), dtype=object)[np.maximum(tids, 0)] \
            if len(self._terms) else np.empty(n, dtype=object)
        other = np.flatnonzero(tids < 0)
        if other.size:
            out[other] = self._others.strings_at(_FIRST_OTHER - tids[other])
        return iter(out.tolist())

    def index(self, ext: str) -> int:
        """The first docid whose id is ``ext`` (as list.index)."""
        for docid, other in enumerate(self):
            if other == ext:
                return docid
        raise ValueError(ext)

    def extend(self, ids: list[str], tids: np.ndarray) -> np.ndarray:
        """Append ``ids`` (``tids``: each one's term id, -1 for an id that is no term).
        Returns what each docid now holds: the term id, or -2 - its row in ``others``
        (DocIds.assign takes it, not to look the rows up again)."""
        first, stop = self._n, self._n + len(ids)
        if stop > self._tids.size:
            grown = np.zeros(max(stop, self._tids.size * 3 // 2), dtype=np.int32)
            grown[: self._n] = self._tids[: self._n]
            self._tids = grown
        rows = np.asarray(tids, dtype=np.int64)
        other = np.flatnonzero(rows < 0)
        if other.size:
            rows = rows.copy()
            rows[other] = _FIRST_OTHER - self._others.add(list(map(ids.__getitem__,
                                                                   other.tolist())))
        self._tids[first:stop] = rows
        self._n = stop  # last: a reader told this count finds every row written
        return rows
