"""The value structures of one indexed field, and BitMap <-> numpy conversions.

Per field path, :class:`FieldValues` keeps:

* ``strings``: normalized string -> BitMap (equality, IN, facet counts), plus
  the first-seen original spelling for display;
* ``numbers`` (JSON numbers) and ``numeric_strings`` (strings spelling a
  number): number -> BitMap, flattened lazily into sorted :class:`Groups` so a
  range is one ``searchsorted`` and one BitMap built from a contiguous slice;
* ``exists`` / ``null`` / ``empty`` BitMaps.

Writes call :meth:`FieldValues.touch`; the numpy views are rebuilt on the next
read, so a batch of adds costs one rebuild.
"""

from __future__ import annotations

import array
from bisect import bisect_left, bisect_right
from typing import NamedTuple

import numpy as np
from pyroaring import BitMap


def bitmap_from_array(ids: np.ndarray) -> BitMap:
    """BitMap from docids via the buffer protocol (far faster than iterating)."""
    return BitMap(array.array("I", np.ascontiguousarray(ids, dtype=np.uint32).tobytes()))


def array_from_bitmap(bitmap: BitMap) -> np.ndarray:
    return np.frombuffer(bitmap.to_array(), dtype=np.uint32)


class Groups(NamedTuple):
    """Docids grouped by distinct value: ``ids[offsets[i]:offsets[i+1]]`` have ``values[i]``.

    One contiguous array per field lets ranges, counts and sort ranks be numpy
    slices and reductions instead of Python loops over values.
    """

    values: np.ndarray
    offsets: np.ndarray
    ids: np.ndarray

    @classmethod
    def build(cls, values: np.ndarray, parts: list[np.ndarray]) -> Groups:
        sizes = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
        offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        ids = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint32)
        return cls(values, offsets, ids)

    def ranks(self) -> np.ndarray:
        """The value index of each entry of ``ids``."""
        return np.repeat(np.arange(len(self.values), dtype=np.int64), np.diff(self.offsets))


def membership(candidates: BitMap, ids: np.ndarray) -> np.ndarray:
    """Boolean per entry of ``ids``: is that docid in ``candidates``? (vectorised)"""
    if not candidates or len(ids) == 0:
        return np.zeros(len(ids), dtype=bool)
    table = np.zeros(int(candidates.max()) + 2, dtype=bool)
    table[array_from_bitmap(candidates)] = True
    # Docids past the table's end map to its last slot, which is always False.
    return table[np.minimum(ids, len(table) - 1)]


class FieldValues:
    """Every indexed fact about one field path."""

    __slots__ = (
        "_groups",
        "_numeric",
        "_sorted_strings",
        "display",
        "empty",
        "exists",
        "null",
        "numbers",
        "numeric_strings",
        "strings",
    )

    def __init__(self) -> None:
        self.exists = BitMap()
        self.null = BitMap()
        self.empty = BitMap()
        self.strings: dict[str, BitMap] = {}
        self.display: dict[str, str] = {}
        self.numbers: dict[float, BitMap] = {}
        self.numeric_strings: dict[float, BitMap] = {}
        self._numeric: Groups | None = None
        self._groups: Groups | None = None
        self._sorted_strings: list[str] | None = None

    def touch(self) -> None:
        self._numeric = None
        self._groups = None
        self._sorted_strings = None

    def numeric(self) -> Groups:
        """Numbers and numeric strings: (distinct values ascending, offsets, docids by value)."""
        if self._numeric is None:
            values = sorted(self.numbers.keys() | self.numeric_strings.keys())
            parts = []
            for value in values:
                bitmap = self.numbers.get(value)
                extra = self.numeric_strings.get(value)
                if bitmap is None or extra is not None:
                    bitmap = extra if bitmap is None else bitmap | extra
                parts.append(array_from_bitmap(bitmap))
            self._numeric = Groups.build(np.array(values, dtype=np.float64), parts)
        return self._numeric

    def string_groups(self) -> Groups:
        """Strings: (normalized keys in sorted order, offsets, docids by key)."""
        if self._groups is None:
            keys = self.sorted_strings()
            parts = [array_from_bitmap(self.strings[k]) for k in keys]
            self._groups = Groups.build(np.array(keys, dtype=object), parts)
        return self._groups

    def sorted_strings(self) -> list[str]:
        if self._sorted_strings is None:
            self._sorted_strings = sorted(self.strings)
        return self._sorted_strings

    def number_range(self, low: float, high: float, low_in: bool, high_in: bool) -> BitMap:
        groups = self.numeric()
        start = np.searchsorted(groups.values, low, side="left" if low_in else "right")
        stop = np.searchsorted(groups.values, high, side="right" if high_in else "left")
        if start >= stop:
            return BitMap()
        return bitmap_from_array(groups.ids[groups.offsets[start] : groups.offsets[stop]])

    def string_range(
        self, low: str | None, high: str | None, low_in: bool, high_in: bool
    ) -> BitMap:
        keys = self.sorted_strings()
        start = 0 if low is None else (bisect_left if low_in else bisect_right)(keys, low)
        stop = len(keys) if high is None else (bisect_right if high_in else bisect_left)(keys, high)
        if start >= stop:
            return BitMap()
        groups = self.string_groups()
        return bitmap_from_array(groups.ids[groups.offsets[start] : groups.offsets[stop]])

    def sort_ranks(self, size: int, descending: bool) -> np.ndarray:
        """Dense int64 sort key per docid < ``size``; absent docids get int64 max.

        Ranks run over numbers (numeric order) then strings (byte order of the
        lowercased value): numbers take precedence in both directions. A
        document with several values uses its smallest ascending, largest descending.
        """
        dense = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
        numbers, strings = self.numeric(), self.string_groups()
        n_numbers, n_strings = len(numbers.values), len(strings.values)
        # Strings first, then numbers overwrite them: numbers take precedence.
        for groups, base, count in ((strings, n_numbers, n_strings), (numbers, 0, n_numbers)):
            if len(groups.ids) == 0:
                continue
            ranks = groups.ranks()
            # Visit entries best-first and keep each docid's first occurrence.
            order = np.argsort(-ranks if descending else ranks, kind="stable")
            docs, first = np.unique(groups.ids[order], return_index=True)
            best = ranks[order][first]
            dense[docs.astype(np.int64)] = base + (count - 1 - best if descending else best)
        return dense
