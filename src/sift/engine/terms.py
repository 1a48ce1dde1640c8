"""The index's terms: term -> term id and term id -> term, without a Python object per term.

A dict from term to id and a list from id to term kept, at 200k products (200k terms,
nearly all of them product ids), a dict table (7-13 MiB), an int object per id (5 MiB),
the list (1.7 MiB) and each term's string (10 MiB). Here a term is its row of code
points in ``codes`` (the rows the vocabulary's views read too: sift.engine.vocab), its
length and its ``hash()``; term -> id is an open-addressing table of int32 ids over those
hashes (kernels/terms.py: every match confirmed on the code points), and a term's string
is made when asked for (``table[tid]``).

Append-only, like the dict it replaces: ids are never reused and a row is written once,
before any view counts it. Readers pass their view's term count and ignore ids at or past
it; the writer puts new ids into the slots in place (a reader probing past a slot it
cannot see yet only walks one slot further) and builds a new, larger table when the
slots are half full (a reader keeps the old one for the probe it is in).

``hash()`` is keyed per process: a pickled table (sift.engine.image) keeps its code
points and lengths, and the process that loads it hashes the terms again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from sift.engine.kernels import term_insert, term_probe, term_slots

# Rows the code buffer starts with; it doubles when full. Rows past the written ones are
# calloc'd pages never touched, so the room costs address space, not memory.
INITIAL_ROWS = 1024
_ABSENT = -1


def _hashes(words: list[str]) -> np.ndarray:
    return np.fromiter(map(hash, words), dtype=np.int64, count=len(words))


def unicode_rows(codes: np.ndarray) -> np.ndarray:
    """Rows of code points as a numpy unicode array (a view: no copy)."""
    return codes.view(f"<U{codes.shape[1]}").reshape(codes.shape[0])


def code_rows(words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(code points, one uint32 row a word, zero-padded; lengths int64) of ``words``."""
    arr = np.array(words, dtype=str)
    width = max(arr.dtype.itemsize // 4, 1)
    codes = arr.view(np.uint32).reshape(len(words), width) if arr.dtype.itemsize \
        else np.zeros((len(words), 1), dtype=np.uint32)
    return codes, np.fromiter(map(len, words), dtype=np.int64, count=len(words))


class TermTable:
    """Term ids by term and terms by id (see the module's docstring)."""

    def __init__(self) -> None:
        self._n = 0
        self._codes = np.zeros((0, 1), dtype=np.uint32)  # room rows: see INITIAL_ROWS
        self._text = unicode_rows(self._codes)  # the same rows as strings (a view)
        self._lengths = np.zeros(0, dtype=np.int64)
        self._hashes = np.zeros(0, dtype=np.int64)
        self._slots = np.full(8, _ABSENT, dtype=np.int32)

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return self._n

    @property
    def codes(self) -> np.ndarray:
        """The written rows' code points (uint32, zero-padded): a view that later
        additions never write (they write past it, or into a new buffer)."""
        return self._codes[: self._n]

    @property
    def lengths(self) -> np.ndarray:
        return self._lengths[: self._n]

    def get(self, term: str, n_terms: int | None = None) -> int | None:
        """``term``'s id, None when it has none below ``n_terms`` (default: every id).
        In Python: one lookup is a few slots, where a call into the kernel and its
        arrays would cost more than the probe."""
        n = self._n if n_terms is None else n_terms
        h = hash(term)
        slots, hashes = self._slots, self._hashes
        mask = slots.size - 1
        s = h & mask
        while True:
            tid = slots.item(s)
            if tid < 0:
                return None
            # An id past ``n`` first: the writer may have put it into these slots after
            # growing the hashes into a new array. The text view drops trailing NULs: a
            # term ending with one is compared whole (only then does the first comparison
            # fail once the hashes are equal).
            if tid < n and hashes.item(tid) == h and self._lengths.item(tid) == len(term) \
                    and (self._text.item(tid) == term or self[tid] == term):
                return tid
            s = (s + 1) & mask

    def ids(self, words: list[str], n_terms: int | None = None) -> np.ndarray:
        """Each word's id (int64, -1 for one with none below ``n_terms``)."""
        if not words:
            return np.zeros(0, dtype=np.int64)
        codes, lengths = code_rows(words)
        return term_probe(self._slots, self._hashes, self._codes, self._lengths,
                          self._n if n_terms is None else n_terms, _hashes(words), codes,
                          lengths)

    def __getitem__(self, tid: int) -> str:
        """The term of id ``tid`` (a new string)."""
        text = self._text.item(tid)
        n = self._lengths.item(tid)
        # numpy drops trailing NULs; the length says where a term really ends.
        return text if len(text) == n else text + "\x00" * (n - len(text))

    def strings(self, start: int = 0, stop: int | None = None) -> list[str]:
        """The terms of ids ``start..stop-1``, as new strings."""
        stop = self._n if stop is None else stop
        rows = self._codes[start:stop]
        words = rows.view(f"<U{rows.shape[1]}").reshape(stop - start).tolist()
        # numpy drops trailing NULs; the lengths say where a term really ends.
        short = np.flatnonzero(np.fromiter(map(len, words), dtype=np.int64, count=len(words))
                               != self._lengths[start:stop])
        for i in short.tolist():
            words[i] += "\x00" * (self._lengths.item(start + i) - len(words[i]))
        return words

    def strings_at(self, ids: np.ndarray) -> list[str]:
        """The terms of ``ids`` (any order), as new strings."""
        words = self._text[ids].tolist()
        lengths = self._lengths[ids]
        for i in np.flatnonzero(np.fromiter(map(len, words), dtype=np.int64, count=len(words))
                                != lengths).tolist():
            words[i] += "\x00" * (int(lengths[i]) - len(words[i]))
        return words

    def __iter__(self) -> Iterator[str]:
        return iter(self.strings())

    # ------------------------------------------------------------------ writing

    def add(self, words: list[str]) -> np.ndarray:
        """Each word's id, the words without one given the next ids in order of first
        appearance (int64)."""
        tids = self.ids(words)
        missing = np.flatnonzero(tids < 0)
        if missing.size:
            unseen = list(map(words.__getitem__, missing.tolist()))
            new = list(dict.fromkeys(unseen))
            self._append(new)
            tids[missing] = self.ids(unseen) if len(new) < len(unseen) \
                else np.arange(self._n - len(new), self._n, dtype=np.int64)
        return tids

    def _append(self, new: list[str]) -> None:
        """Give ``new`` (distinct words none of which is a term) the next ids."""
        start, stop = self._n, self._n + len(new)
        codes, lengths = code_rows(new)
        self._make_room(stop, codes.shape[1])
        self._codes[start:stop, : codes.shape[1]] = codes
        self._lengths[start:stop] = lengths
        self._hashes[start:stop] = _hashes(new)
        if 2 * stop > self._slots.size:  # a new table, readers keep the old one
            size = self._slots.size
            while 2 * stop > size:
                size *= 2
            self._slots = term_slots(self._hashes, stop, size)
        else:
            term_insert(self._slots, self._hashes, start, stop)
        self._n = stop  # last: a reader told this count finds every row written

    def _make_room(self, rows: int, width: int) -> None:
        """Room for ``rows`` rows of ``width`` code points: new buffers (the old ones
        copied in) when the current ones are too short or too narrow; views keep the
        old ones."""
        have, have_width = self._codes.shape
        if rows <= have and width <= have_width:
            return
        room = max(rows, 2 * have, INITIAL_ROWS) if rows > have else have
        codes = np.zeros((room, max(width, have_width)), dtype=np.uint32)
        codes[: self._n, :have_width] = self._codes[: self._n]
        lengths = np.zeros(room, dtype=np.int64)
        lengths[: self._n] = self._lengths[: self._n]
        hashes = np.zeros(room, dtype=np.int64)
        hashes[: self._n] = self._hashes[: self._n]
        # The text view first: a reader that finds the new codes finds their view.
        self._text = unicode_rows(codes)
        self._codes, self._lengths, self._hashes = codes, lengths, hashes

    # ------------------------------------------------------------------ pickling

    def __getstate__(self) -> dict[str, Any]:
        # The hashes and slots are this process's (hash() is keyed): made again on load.
        return {"codes": self.codes.copy(), "lengths": self.lengths.copy()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]
        codes, lengths = state["codes"], state["lengths"]
        n = lengths.size
        self._make_room(n, codes.shape[1])
        self._codes[:n] = codes
        self._lengths[:n] = lengths
        self._n = n
        self._hashes[:n] = _hashes(self.strings())
        size = 8
        while 2 * n > size:
            size *= 2
        self._slots = term_slots(self._hashes, n, size)

