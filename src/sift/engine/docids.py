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

from collections.abc import Iterable

import numpy as np

ABSENT = -1


class DocIds:
    """A mapping external id -> docid; ``term_ids`` is the index's term dict (shared)."""

    def __init__(self, term_ids: dict[str, int]) -> None:
        self._term_ids = term_ids
        self._by_term = np.full(0, ABSENT, dtype=np.int32)  # docid by term id
        self._other: dict[str, int] = {}
        self._count = 0

    def _slot(self, ext: str) -> int | None:
        """The term id whose array slot holds ``ext``'s docid, if it is there."""
        tid = self._term_ids.get(ext)
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

    def assign(self, ids: Iterable[str], first: int) -> None:
        """Docids ``first``, ``first + 1``, ... to ``ids``, none of which is held."""
        term_ids, other = self._term_ids, self._other
        tids: list[int] = []
        docids: list[int] = []
        for docid, ext in enumerate(ids, first):
            tid = term_ids.get(ext)
            if tid is None:
                other[ext] = docid
            else:
                tids.append(tid)
                docids.append(docid)
            self._count += 1
        if not tids:
            return
        needed = len(term_ids)
        if needed > self._by_term.size:  # room for the terms to come, as the index's arrays
            grown = np.full(max(needed, self._by_term.size * 3 // 2), ABSENT, dtype=np.int32)
            grown[: self._by_term.size] = self._by_term
            self._by_term = grown
        self._by_term[np.asarray(tids, dtype=np.int64)] = np.asarray(docids, dtype=np.int32)
