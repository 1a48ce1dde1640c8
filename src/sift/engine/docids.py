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

from itertools import compress, repeat

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

    def held(self, exts: list[str]) -> list[str]:
        """Those of ``exts`` that have a docid, in order."""
        if not self._count:
            return []
        tids = np.fromiter(map(self._term_ids.get, exts, repeat(ABSENT)), dtype=np.int64,
                           count=len(exts))
        slots = (tids >= 0) & (tids < self._by_term.size)
        found = np.zeros(len(exts), dtype=bool)
        found[slots] = self._by_term[tids[slots]] != ABSENT
        if self._other:
            found |= np.fromiter(map(self._other.__contains__, exts), dtype=bool,
                                 count=len(exts))
        return list(compress(exts, found.tolist()))

    def assign(self, ids: list[str], first: int,
               tids: list[int | None] | None = None) -> None:
        """Docids ``first``, ``first + 1``, ... to ``ids``, none of which is held
        (``tids``: each id's term id, None for an id that is no term, when known)."""
        if tids is None:
            tids = list(map(self._term_ids.get, ids))
        self._count += len(ids)
        some_not_terms = None in tids
        if some_not_terms:
            for docid, ext, tid in zip(range(first, first + len(ids)), ids, tids,
                                       strict=True):
                if tid is None:
                    self._other[ext] = docid
        docids = np.arange(first, first + len(ids), dtype=np.int32)
        terms = np.fromiter((ABSENT if t is None else t for t in tids), dtype=np.int64,
                            count=len(tids)) if some_not_terms \
            else np.asarray(tids, dtype=np.int64)
        docids, terms = docids[terms != ABSENT], terms[terms != ABSENT]
        if not terms.size:
            return
        needed = len(self._term_ids)
        if needed > self._by_term.size:  # room for the terms to come, as the index's arrays
            grown = np.full(max(needed, self._by_term.size * 3 // 2), ABSENT, dtype=np.int32)
            grown[: self._by_term.size] = self._by_term
            self._by_term = grown
        self._by_term[terms] = docids
