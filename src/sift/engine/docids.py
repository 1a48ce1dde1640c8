"""External document ids -> internal docids, without a dict entry per document.

Ids are searchable, so most external ids (numbers, lowercase words) are also terms of the
index: for those, the docid sits in an int32 array at the term's id (4 bytes a document).
A dict from id to docid took ~65 bytes a document (its entry and an int object per
docid): ~13 MiB of a 200k-product index. Ids that are no term (``SKU-12`` is the terms
``sku`` and ``12``) keep a dict entry.

An id is in one place at a time: in the array when it was a term when it was assigned,
else in the dict. A term made later that equals an id in the dict leaves that id there,
so a lookup tries the array, then the dict.
"""

from __future__ import annotations

from itertools import compress

import numpy as np

from sift.engine.terms import TermTable

ABSENT = -1


class DocIds:
    """A mapping external id -> docid; ``terms`` is the index's term table (shared)."""

    def __init__(self, terms: TermTable) -> None:
        self._terms = terms
        self._by_term = np.full(0, ABSENT, dtype=np.int32)  # docid by term id
        self._other: dict[str, int] = {}
        self._count = 0

    def _slot(self, ext: str) -> int | None:
        """The term id whose array slot holds ``ext``'s docid, if it is there."""
        tid = self._terms.get(ext)
        if tid is not None and tid < self._by_term.size and self._by_term[tid] != ABSENT:
            return tid
        return None

    def get(self, ext: str, default: int | None = None) -> int | None:
        tid = self._slot(ext)
        if tid is not None:
            return int(self._by_term[tid])
        return self._other.get(ext, default)

    def __contains__(self, ext: object) -> bool:
        return isinstance(ext, str) and self.get(ext) is not None

    def __len__(self) -> int:
        return self._count

    def pop(self, ext: str, default: int | None = None) -> int | None:
        tid = self._slot(ext)
        if tid is not None:
            docid = int(self._by_term[tid])
            self._by_term[tid] = ABSENT
        elif ext in self._other:
            docid = self._other.pop(ext)
        else:
            return default
        self._count -= 1
        return docid

    def held(self, exts: list[str]) -> list[str]:
        """Those of ``exts`` that have a docid, in order."""
        if not self._count:
            return []
        tids = self._terms.ids(exts)
        slots = (tids >= 0) & (tids < self._by_term.size)
        found = np.zeros(len(exts), dtype=bool)
        found[slots] = self._by_term[tids[slots]] != ABSENT
        if self._other:
            found |= np.fromiter(map(self._other.__contains__, exts), dtype=bool,
                                 count=len(exts))
        return list(compress(exts, found.tolist()))

    def assign(self, ids: list[str], first: int, tids: np.ndarray | None = None) -> None:
        """Docids ``first``, ``first + 1``, ... to ``ids``, none of which is held
        (``tids``: each id's term id, -1 for an id that is no term, when known)."""
        if tids is None:
            tids = self._terms.ids(ids)
        self._count += len(ids)
        for i in np.flatnonzero(tids == ABSENT).tolist():
            self._other[ids[i]] = first + i
        docids = np.arange(first, first + len(ids), dtype=np.int32)
        known = tids != ABSENT
        docids, terms = docids[known], tids[known]
        if not terms.size:
            return
        needed = len(self._terms)
        if needed > self._by_term.size:  # room for the terms to come, as the index's arrays
            grown = np.full(max(needed, self._by_term.size * 3 // 2), ABSENT, dtype=np.int32)
            grown[: self._by_term.size] = self._by_term
            self._by_term = grown
        self._by_term[terms] = docids
