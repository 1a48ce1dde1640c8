"""External document ids -> internal docids, without a dict entry per document.

Ids are searchable, so most external ids (numbers, lowercase words) are also terms of the
index: for those, the docid sits in an int32 array at the term's id (4 bytes a document).
A dict from id to docid took ~65 bytes a document (its entry and an int object per
docid): ~13 MiB of a 200k-product index. Ids that are no term (``SKU-12`` is the terms
``sku`` and ``12``; any id when the id is not searchable) are rows of a second table of
the same kind (``others``, shared with sift.engine.extids), their docid in an int32 array
at the row's id: a dict entry, its key's string and an int kept ~64 bytes a document
there too (~12.7 MiB of the 200k products, whose ids are not searchable).

An id is in one place at a time: in the terms' array when it was a term when it was
assigned, else in the others' array. A term made later that equals an id held among the
others leaves that id there, so a lookup tries the terms, then the others.
"""

from __future__ import annotations

from itertools import compress

import numpy as np

from sift.engine.terms import TermTable

ABSENT = -1


class DocIds:
    """A mapping external id -> docid; ``terms`` is the index's term table (shared)."""

    def __init__(self, terms: TermTable, others: TermTable | None = None) -> None:
        self._terms = terms
        self._by_term = np.full(0, ABSENT, dtype=np.int32)  # docid by term id
        # Ids that are no term: their rows in ``others`` (append-only; a row outlives its
        # id's removal and is found again if the id comes back), the docid by row id.
        self._others = TermTable() if others is None else others
        self._by_other = np.full(0, ABSENT, dtype=np.int32)
        self._count = 0

    def _slot(self, ext: str) -> int | None:
        """The term id whose array slot holds ``ext``'s docid, if it is there."""
        tid = self._terms.get(ext)
        if tid is not None and tid < self._by_term.size and self._by_term[tid] != ABSENT:
            return tid
        return None

    def _other_slot(self, ext: str) -> int | None:
        """The others' row whose array slot holds ``ext``'s docid, if it is there."""
        oid = self._others.get(ext)
        if oid is not None and oid < self._by_other.size and self._by_other[oid] != ABSENT:
            return oid
        return None

    def get(self, ext: str, default: int | None = None) -> int | None:
        tid = self._slot(ext)
        if tid is not None:
            return int(self._by_term[tid])
        oid = self._other_slot(ext)
        return default if oid is None else int(self._by_other[oid])

    def __contains__(self, ext: object) -> bool:
        return isinstance(ext, str) and self.get(ext) is not None

    def __len__(self) -> int:
        return self._count

    def pop(self, ext: str, default: int | None = None) -> int | None:
        tid = self._slot(ext)
        if tid is not None:
            docid = int(self._by_term[tid])
            self._by_term[tid] = ABSENT
        elif (oid := self._other_slot(ext)) is not None:
            docid = int(self._by_other[oid])
            self._by_other[oid] = ABSENT
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
        if len(self._others):
            oids = self._others.ids(exts)
            slots = (oids >= 0) & (oids < self._by_other.size)
            found[slots] |= self._by_other[oids[slots]] != ABSENT
        return list(compress(exts, found.tolist()))

    def assign(self, ids: list[str], first: int, tids: np.ndarray | None = None,
               held: np.ndarray | None = None) -> None:
        """Docids ``first``, ``first + 1``, ... to ``ids``, none of which is held
        (``tids``: each id's term id, -1 for an id that is no term, when known;
        ``held``: ExternalIds.extend's answer for them, when it shares ``others``: an id
        that is no term is -2 - its row there, not looked up again)."""
        if tids is None:
            tids = self._terms.ids(ids)
        self._count += len(ids)
        docids = np.arange(first, first + len(ids), dtype=np.int32)
        known = tids != ABSENT
        if not known.all():
            unknown = np.flatnonzero(~known)
            oids = -2 - held[unknown] if held is not None \
                else self._others.add(list(map(ids.__getitem__, unknown.tolist())))
            self._by_other = _room(self._by_other, len(self._others))
            self._by_other[oids] = docids[unknown]
        docids, terms = docids[known], tids[known]
        if not terms.size:
            return
        self._by_term = _room(self._by_term, len(self._terms))
        self._by_term[terms] = docids


def _room(by_id: np.ndarray, needed: int) -> np.ndarray:
    """``by_id`` with at least ``needed`` slots (grown by half: room for the ids to come,
    as the index's arrays), the new ones ABSENT."""
    if needed <= by_id.size:
        return by_id
    grown = np.full(max(needed, by_id.size * 3 // 2), ABSENT, dtype=np.int32)
    grown[: by_id.size] = by_id
    return grown
