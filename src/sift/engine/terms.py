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

Rows are at most LONG_LETTERS code points wide (issue #18): a longer term keeps its
first row's worth of code points in its row and all of them in the overflow store
(``_long``: its id, where its code points start, the code points), so one 255-letter
token no longer widens every term's row to 1,020 bytes. The rows are as wide as the
longest term of up to LONG_LETTERS letters; a term longer than the rows is always in the
overflow store.

``hash()`` is keyed per process: a pickled table (sift.engine.image) keeps its code
points and lengths, and the process that loads it hashes the terms again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from sift.engine.kernels import term_insert, term_probe, term_slots

# Rows the code buffer starts with; it doubles when full. Rows past the written ones are
# calloc'd pages never touched, so the room costs address space, not memory.
INITIAL_ROWS = 1024
_ABSENT = -1
# The widest row, in code points. Terms longer than this are rare in text (scifact's and
# nfcorpus' vocabularies: see docs/benchmarks/memory.md, "Rows capped"), while every row
# costs 4 bytes a code point of its width: 24 keeps nearly every term's code points in
# its row (the kernels' fast path) at 96 bytes a row at most.
LONG_LETTERS = 24
_NO_ID = np.iinfo(np.int64).max  # the overflow store's unused id slots (sorted last)


class LongTerms(NamedTuple):
    """The overflow store: the ids of the terms longer than LONG_LETTERS (increasing;
    unused room _NO_ID), where each one's code points start in ``codes``, and the code
    points (flat uint32). Written in place past the stored ones; replaced by a larger
    copy when full (a reader keeps the one it read)."""
    ids: np.ndarray
    starts: np.ndarray
    codes: np.ndarray


class _LookupViews(NamedTuple):
    """What :meth:`TermTable.get` reads: the slots (int32) and lengths (int64) as
    memoryviews of the table's arrays, and the rows as strings (``unicode_rows``)."""
    slots: memoryview
    lengths: memoryview
    text: np.ndarray


def _no_long_terms() -> LongTerms:
    return LongTerms(np.full(1, _NO_ID, dtype=np.int64), np.zeros(1, dtype=np.int64),
                     np.zeros(1, dtype=np.uint32))


def _slot_count(terms: int, size: int) -> int:
    """The slot table's size for ``terms`` ids: ``size`` doubled until at most half full."""
    while 2 * terms > size:
        size *= 2
    return size


def _hashes(words: list[str]) -> np.ndarray:
    return np.fromiter(map(hash, words), dtype=np.int64, count=len(words))


def unicode_rows(codes: np.ndarray) -> np.ndarray:
    """Rows of code points as a numpy unicode array (a view: no copy)."""
    return codes.view(f"<U{codes.shape[1]}").reshape(codes.shape[0])


def code_rows(words: list[str], lengths: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """(code points, one uint32 row a word, zero-padded; lengths int64) of ``words``
    (``lengths``: theirs, when known)."""
    arr = np.array(words, dtype=str)
    width = max(arr.dtype.itemsize // 4, 1)
    codes = arr.view(np.uint32).reshape(len(words), width) if arr.dtype.itemsize \
        else np.zeros((len(words), 1), dtype=np.uint32)
    if lengths is None:
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    return codes, lengths


class TermTable:
    """Term ids by term and terms by id (see the module's docstring)."""

    def __init__(self) -> None:
        self._n = 0
        self._codes = np.zeros((0, 1), dtype=np.uint32)  # room rows: see INITIAL_ROWS
        self._text = unicode_rows(self._codes)  # the same rows as strings (a view)
        self._lengths = np.zeros(0, dtype=np.int64)
        self._hashes = np.zeros(0, dtype=np.int64)
        self._slots = np.full(8, _ABSENT, dtype=np.int32)
        self._lookup = self._lookup_views()
        self._long = _no_long_terms()
        self._n_long = 0  # terms in the overflow store
        self._long_used = 0  # its code points written

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

    @property
    def long_terms(self) -> LongTerms:
        return self._long

    def has_long(self, n_terms: int | None = None) -> bool:
        """Whether a term below ``n_terms`` (default: every one) is in the overflow store."""
        n = self._n if n_terms is None else n_terms
        return self._n_long > 0 and self._long.ids.item(0) < n

    def _long_term(self, tid: int, length: int) -> str:
        """The term of id ``tid`` (``length`` letters) from the overflow store."""
        long = self._long
        start = long.starts.item(int(np.searchsorted(long.ids, tid)))
        return long.codes[start : start + length].tobytes().decode("utf-32-le")

    def _lookup_views(self) -> _LookupViews:
        """The arrays :meth:`get` reads, as memoryviews of them (an item is ~20 ns against
        ndarray.item's ~45): set again, as one object, whenever one of them is replaced."""
        return _LookupViews(memoryview(self._slots), memoryview(self._lengths), self._text)

    def get(self, term: str, n_terms: int | None = None) -> int | None:
        """``term``'s id, None when it has none below ``n_terms`` (default: every id).
        In Python: one lookup is a few slots, where a call into the kernel and its
        arrays would cost more than the probe (the batch, :meth:`ids`, pays a few µs
        before its first word: docs/benchmarks/speed.md, "A query's term lookups")."""
        n = self._n if n_terms is None else n_terms
        length = len(term)
        slots, lengths, text = self._lookup
        mask = len(slots) - 1
        s = hash(term) & mask
        while True:
            tid = slots[s]
            if tid < 0:
                return None
            # An id past ``n`` first: the writer may have put it into these slots after
            # growing the lengths into a new array. The length and the row confirm a
            # match without the hashes (one memory read less: a lookup's time is mostly
            # its reads' cache misses). The row's string is the term unless shorter: a
            # term longer than the rows, or one ending with NULs (numpy drops them).
            if tid < n and lengths[tid] == length:
                row = text.item(tid)
                if row == term or (len(row) < length and self[tid] == term):
                    return tid
            s = (s + 1) & mask

    def ids(self, words: list[str], n_terms: int | None = None) -> np.ndarray:
        """Each word's id (int64, -1 for one with none below ``n_terms``)."""
        if not words:
            return np.zeros(0, dtype=np.int64)
        n = self._n if n_terms is None else n_terms  # before the arrays: see _append
        # (max() in Python: a query's few words take ~0.2 µs, numpy's calls ~3.)
        if max(map(len, words)) > LONG_LETTERS and min(map(len, words)) <= LONG_LETTERS:
            # The long words probed apart: the short ones' code rows stay as narrow as
            # they are (a batch's rows as wide as its one long token took ~1 KiB a word).
            lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
            out = np.empty(len(words), dtype=np.int64)
            for part in (np.flatnonzero(lengths <= LONG_LETTERS),
                         np.flatnonzero(lengths > LONG_LETTERS)):
                out[part] = self.ids(list(map(words.__getitem__, part.tolist())), n)
            return out
        codes, lengths = code_rows(words)
        long_terms = self._long
        return term_probe(self._slots, self._hashes, self._codes, self._lengths, n,
                          _hashes(words), codes, lengths, long_terms.ids, long_terms.starts,
                          long_terms.codes)

    def __getitem__(self, tid: int) -> str:
        """The term of id ``tid`` (a new string)."""
        text = self._text.item(tid)
        n = self._lengths.item(tid)
        if n > LONG_LETTERS:
            return self._long_term(tid, n)
        # numpy drops trailing NULs; the length says where a term really ends.
        return text if len(text) == n else text + "\x00" * (n - len(text))

    def strings(self, start: int = 0, stop: int | None = None) -> list[str]:
        """The terms of ids ``start..stop-1``, as new strings."""
        stop = self._n if stop is None else stop
        rows = self._codes[start:stop]
        words = rows.view(f"<U{rows.shape[1]}").reshape(stop - start).tolist()
        return self._whole(words, range(start, stop), self._lengths[start:stop])

    def strings_at(self, ids: np.ndarray) -> list[str]:
        """The terms of ``ids`` (any order), as new strings."""
        return self._whole(self._text[ids].tolist(), ids, self._lengths[ids])

    def _whole(self, words: list[str], ids: np.ndarray | range, lengths: np.ndarray
               ) -> list[str]:
        """``words`` (the rows' strings of ``ids``) made the terms: where a row's string is
        shorter than its term, the term from the overflow store, or its trailing NULs
        (numpy drops them) put back."""
        for i in np.flatnonzero(np.fromiter(map(len, words), dtype=np.int64, count=len(words))
                                != lengths).tolist():
            tid, length = int(ids[i]), int(lengths[i])
            words[i] = self._long_term(tid, length) if length > LONG_LETTERS \
                else words[i] + "\x00" * (length - len(words[i]))
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
        lengths = np.fromiter(map(len, new), dtype=np.int64, count=len(new))
        long = np.flatnonzero(lengths > LONG_LETTERS)
        if long.size:
            short = np.flatnonzero(lengths <= LONG_LETTERS)
            codes, _ = code_rows(list(map(new.__getitem__, short.tolist())))
            self._make_room(stop, codes.shape[1] if short.size else 1)
            self._codes[start + short, : codes.shape[1]] = codes
            self._add_long(start + long, list(map(new.__getitem__, long.tolist())))
        else:
            codes, _ = code_rows(new, lengths)
            self._make_room(stop, codes.shape[1])
            self._codes[start:stop, : codes.shape[1]] = codes
        self._lengths[start:stop] = lengths
        self._hashes[start:stop] = _hashes(new)
        if 2 * stop > self._slots.size:  # a new table, readers keep the old one
            self._slots = term_slots(self._hashes, stop, _slot_count(stop, self._slots.size))
        else:
            term_insert(self._slots, self._hashes, start, stop)
        self._lookup = self._lookup_views()
        self._n = stop  # last: a reader told this count finds every row written

    def _add_long(self, tids: np.ndarray, words: list[str]) -> None:
        """Put terms longer than LONG_LETTERS (ids ``tids``, increasing, past every stored
        one) into the overflow store and their first letters into their rows (in room
        made for them)."""
        flat = np.frombuffer("".join(words).encode("utf-32-le"), dtype=np.uint32)
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        long, n, used = self._long, self._n_long, self._long_used
        if n + tids.size > long.ids.size or used + flat.size > long.codes.size:
            room = max(2 * long.ids.size, n + tids.size)
            ids = np.full(room, _NO_ID, dtype=np.int64)
            ids[:n] = long.ids[:n]
            starts = np.zeros(room, dtype=np.int64)
            starts[:n] = long.starts[:n]
            codes = np.zeros(max(2 * long.codes.size, used + flat.size), dtype=np.uint32)
            codes[:used] = long.codes[:used]
            long = LongTerms(ids, starts, codes)
        long.codes[used : used + flat.size] = flat
        long.starts[n : n + tids.size] = used + np.cumsum(lengths) - lengths
        long.ids[n : n + tids.size] = tids  # last: a reader finds only written ones
        self._long, self._n_long, self._long_used = long, n + tids.size, used + flat.size
        width = self._codes.shape[1]
        for tid, word in zip(tids.tolist(), words, strict=True):
            self._codes[tid] = np.frombuffer(word[:width].encode("utf-32-le"), np.uint32)

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
        if width > have_width:  # the long terms' rows get the letters they now hold
            long = self._long
            for tid, start in zip(long.ids[: self._n_long].tolist(),
                                  long.starts[: self._n_long].tolist(), strict=True):
                codes[tid] = long.codes[start : start + codes.shape[1]]
        # The text view first: a reader that finds the new codes finds their view.
        self._text = unicode_rows(codes)
        self._codes, self._lengths, self._hashes = codes, lengths, hashes
        self._lookup = self._lookup_views()

    # ------------------------------------------------------------------ pickling

    def __getstate__(self) -> dict[str, Any]:
        # The hashes and slots are this process's (hash() is keyed): made again on load.
        long = self._long
        return {"codes": self.codes.copy(), "lengths": self.lengths.copy(),
                "long_ids": long.ids[: self._n_long].copy(),
                "long_starts": long.starts[: self._n_long].copy(),
                "long_codes": long.codes[: self._long_used].copy()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]
        codes, lengths = state["codes"], state["lengths"]
        n = lengths.size
        self._make_room(n, codes.shape[1])
        self._codes[:n] = codes
        self._lengths[:n] = lengths
        if "long_ids" in state and state["long_ids"].size:
            ids = state["long_ids"]
            self._long = LongTerms(ids.copy(), state["long_starts"].copy(),
                                   state["long_codes"].copy())
            self._n_long, self._long_used = ids.size, state["long_codes"].size
        self._n = n
        self._hashes[:n] = _hashes(self.strings())
        self._slots = term_slots(self._hashes, n, _slot_count(n, 8))
        self._lookup = self._lookup_views()

