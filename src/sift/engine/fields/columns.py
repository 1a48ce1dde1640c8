"""A batch's facet entries gathered a field at a time (columnar).

:func:`~sift.engine.fields.values.iter_entries` defines the entries of one document;
walking it per document was a quarter of a 200k-product import's server time
(a generator step, a ``wanted`` lookup and a set insert per value). Here each
top-level field is read across the whole batch: scalars and arrays of scalars are
told apart by type, each distinct string is normalized and parsed once, columns of
JSON numbers go to numpy whole; mixed columns go a value at a time by the same rules.
Values that nest (objects, arrays holding arrays or objects), fields another top-level
key can collide with (``a`` and ``a.b``, which flatten to one path) and anything of an
unexpected type go through the reference walk, so both give the same entries
(tests/unit/engine/test_fields_columns.py compares them).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from operator import itemgetter
from typing import Any

import numpy as np

from sift.engine.fields.values import (
    DESCEND,
    EMPTY,
    EXISTS,
    INDEX,
    NULL,
    NUMBER,
    NUMERIC_STRING,
    SKIP,
    STRING,
    iter_entries,
    normalize_facet,
    parse_number,
)

# A JSON number column: float64 values, uint32 docids, and whether each is a JSON
# number (True) or a string that spells one (False).
NumberChunk = tuple[np.ndarray, np.ndarray, np.ndarray]

_SCALARS = (str, bool, int, float, type(None))
_MISSING = object()


def _spelled(values: list[Any], types: set[type]) -> list[str]:
    """Strings as they are, booleans as the strings they index as (``types``: those
    of ``values``)."""
    if bool not in types:
        return values
    return [("true" if value else "false") if type(value) is bool else value
            for value in values]  # fmt: skip


class BatchEntries:
    """The entries of a batch of documents, grouped the way FieldStore writes them:
    docids per (field, EXISTS/NULL/EMPTY), per field and string key, and per field
    the number rows. A key counts once per document, as in the per-document walk."""

    def __init__(self, wanted: Callable[[str], int]) -> None:
        self._wanted = wanted
        self.flags: dict[tuple[str, int], list[int]] = defaultdict(list)
        self.strings: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        # The first spelling met of each key (documents in batch order).
        self.displays: dict[str, dict[str, str]] = defaultdict(dict)
        self._numbers: dict[str, tuple[list[float], list[int], list[bool]]] = defaultdict(
            lambda: ([], [], [])
        )
        self._number_chunks: dict[str, list[NumberChunk]] = defaultdict(list)
        # raw string -> (normalized key, the number it spells or None), for every field.
        self._texts: dict[str, tuple[str, float | None]] = {}

    # -- gathering ------------------------------------------------------

    def add_documents(self, docids: list[int], docs: list[dict]) -> None:
        """Gather ``docs`` (``docids[i]``: ``docs[i]``, distinct docids; displays are
        the first spellings in this order)."""
        by_root: dict[str, list[str]] = defaultdict(list)
        for name in sorted(set().union(*docs)):
            by_root[name.split(".", 1)[0]].append(name)
        for names in by_root.values():
            if len(names) == 1:
                self._add_column(names[0], docids, docs)
            else:
                # `a` and `a.b` both give path `a.b`: walk those keys per document, in
                # the document's own order, so a key still counts once per document.
                shared = set(names)
                for docid, doc in zip(docids, docs, strict=True):
                    part = {key: value for key, value in doc.items() if key in shared}
                    if part:
                        self.add_walked(docid, part)

    def add_walked(self, docid: int, doc: dict[str, Any]) -> None:
        """The reference: ``doc``'s entries from the per-document walk."""
        seen: set[tuple[str, int, Any]] = set()
        for field, kind, key, display in iter_entries(doc, self._wanted):
            if (field, kind, key) in seen:
                continue
            seen.add((field, kind, key))
            if kind == STRING:
                self.strings[field][key].append(docid)
                self.displays[field].setdefault(key, display)
            elif kind in (NUMBER, NUMERIC_STRING):
                values, ids, real = self._numbers[field]
                values.append(key)
                ids.append(docid)
                real.append(kind == NUMBER)
            else:
                self.flags[(field, kind)].append(docid)

    def _add_column(self, name: str, docids: list[int], docs: list[dict]) -> None:
        action = self._wanted(name)
        if action == SKIP:
            return
        ids = docids
        try:
            column = list(map(itemgetter(name), docs))
        except KeyError:
            column = [doc.get(name, _MISSING) for doc in docs]
            ids = [docid for docid, value in zip(docids, column, strict=True)
                   if value is not _MISSING]  # fmt: skip
            column = [value for value in column if value is not _MISSING]
        if action == DESCEND:
            # Only objects (or arrays of them) can hold an indexed path below this one.
            for docid, value in zip(ids, column, strict=True):
                if isinstance(value, dict | list):
                    self.add_walked(docid, {name: value})
            return
        assert action == INDEX
        types = set(map(type, column))
        if types <= {int, float}:
            self._add_reals(name, ids, column)
        elif types <= {str, bool}:
            self._add_texts(name, ids, _spelled(column, types), None)
        elif types == {list}:
            flat = [item for items in column for item in items]
            item_types = set(map(type, flat))
            lengths = np.fromiter(map(len, column), np.int64, len(column))
            if not item_types <= {str, bool} or not self._add_texts(
                name, ids, _spelled(flat, item_types), lengths
            ):
                self._add_values(name, ids, column)
        else:
            self._add_values(name, ids, column)

    def _add_reals(self, name: str, ids: list[int], column: list[float]) -> None:
        """A column of JSON numbers only: straight into numpy."""
        self.flags[(name, EXISTS)].extend(ids)
        values = np.array(column, dtype=np.float64)
        finite = np.isfinite(values)
        docids = np.array(ids, dtype=np.uint32)
        if not finite.all():
            values, docids = values[finite], docids[finite]
        self._number_chunks[name].append((values, docids, np.ones(len(values), dtype=bool)))

    def _add_texts(
        self, name: str, ids: list[int], texts: list[str], lengths: np.ndarray | None
    ) -> bool:
        """A column of strings (``lengths`` None: one per document) or of arrays of
        strings (``lengths``: each document's count, ``texts`` their items in a row),
        each distinct spelling normalized and parsed once. False, with nothing
        gathered, for arrays with a numeric string (a number counted once per
        document: left to the value-at-a-time path)."""
        spellings = list(dict.fromkeys(texts))  # in the order first met: displays
        code_of = {text: code for code, text in enumerate(spellings)}
        key_of = np.full(len(spellings), -1, dtype=np.int64)  # -1: "", no key
        number_of = np.full(len(spellings), np.nan)
        keys: list[str] = []
        key_displays: list[str] = []  # each key's first spelling
        key_index: dict[str, int] = {}
        for code, text in enumerate(spellings):
            if text:
                key, number = self._parsed(text)
                index = key_index.get(key)
                if index is None:
                    index = key_index[key] = len(keys)
                    keys.append(key)
                    key_displays.append(text)
                key_of[code] = index
                if number is not None:
                    number_of[code] = number
        if lengths is not None and not np.isnan(number_of).all():
            return False
        codes = np.fromiter(map(code_of.__getitem__, texts), np.int64, len(texts))
        docids = np.array(ids, dtype=np.int64)
        self.flags[(name, EXISTS)].extend(ids)
        key_codes = key_of[codes]
        if lengths is None:
            positions = np.arange(len(texts))
            empty = key_codes < 0  # "" is EMPTY, not a facet value
            numbers = number_of[codes]
            spelled = ~np.isnan(numbers)
            if spelled.any():
                self._number_chunks[name].append(
                    (numbers[spelled], docids[spelled].astype(np.uint32),
                     np.zeros(int(spelled.sum()), dtype=bool)))  # fmt: skip
        else:
            positions = np.repeat(np.arange(len(ids)), lengths)
            empty = lengths == 0  # inside an array, "" is nothing
        if empty.any():
            self.flags[(name, EMPTY)].extend(docids[empty].tolist())
        keyed = key_codes >= 0
        key_codes, positions = key_codes[keyed], positions[keyed]
        # By key, documents in batch order; a key twice in one document's array lands
        # on adjacent rows, counted once.
        order = np.argsort(key_codes, kind="stable")
        key_codes, positions = key_codes[order], positions[order]
        if lengths is not None and len(key_codes):
            first = np.ones(len(key_codes), dtype=bool)
            first[1:] = (key_codes[1:] != key_codes[:-1]) | (positions[1:] != positions[:-1])
            key_codes, positions = key_codes[first], positions[first]
        starts = np.flatnonzero(np.diff(key_codes, prepend=-1))
        stops = np.append(starts[1:], len(key_codes)) if len(starts) else starts
        row_docids = docids[positions]
        strings = self.strings[name]
        displays = self.displays[name]
        for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
            index = int(key_codes[start])
            strings[keys[index]].extend(row_docids[start:stop].tolist())
            displays.setdefault(keys[index], key_displays[index])
        return True

    def _parsed(self, text: str) -> tuple[str, float | None]:
        """``text``'s normalized key and the number it spells (None: none)."""
        parsed = self._texts.get(text)
        if parsed is None:
            parsed = self._texts[text] = (normalize_facet(text), parse_number(text))
        return parsed

    def _add_values(self, name: str, ids: list[int], column: list[Any]) -> None:
        """Any other column, a value at a time; nested values through the walk."""
        exists, nulls, empties = [], [], []
        strings = self.strings[name]
        displays = self.displays[name]
        numbers, number_ids, real = self._numbers[name]
        texts = self._texts
        for docid, value in zip(ids, column, strict=True):
            kind = type(value)
            if kind is str:
                exists.append(docid)
                if not value:
                    empties.append(docid)  # "" is EMPTY, not a facet value
                    continue
                parsed = texts.get(value)
                if parsed is None:
                    parsed = texts[value] = (normalize_facet(value), parse_number(value))
                key, number = parsed
                strings[key].append(docid)
                if key not in displays:
                    displays[key] = value
                if number is not None:
                    numbers.append(number)
                    number_ids.append(docid)
                    real.append(False)
            elif kind is bool:
                exists.append(docid)
                text = "true" if value else "false"
                strings[text].append(docid)
                if text not in displays:
                    displays[text] = text
            elif kind is int or kind is float:
                exists.append(docid)
                number = float(value)
                if math.isfinite(number):
                    numbers.append(number)
                    number_ids.append(docid)
                    real.append(True)
            elif value is None:
                exists.append(docid)
                nulls.append(docid)
            elif kind is list and all(type(item) in _SCALARS for item in value):
                exists.append(docid)
                if value:
                    self._add_scalar_array(name, docid, value)
                else:
                    empties.append(docid)
            elif kind is dict and not value:
                exists.append(docid)
                empties.append(docid)
            else:
                self.add_walked(docid, {name: value})
        self.flags[(name, EXISTS)].extend(exists)
        if nulls:
            self.flags[(name, NULL)].extend(nulls)
        if empties:
            self.flags[(name, EMPTY)].extend(empties)

    def _add_scalar_array(self, name: str, docid: int, items: list[Any]) -> None:
        """An array of scalars (tags): each distinct key once. Inside an array, null
        and "" are neither NULL nor EMPTY."""
        strings = self.strings[name]
        displays = self.displays[name]
        numbers, number_ids, real = self._numbers[name]
        texts = self._texts
        seen_keys: set[str] = set()
        seen_reals: set[float] = set()
        seen_spelled: set[float] = set()
        for value in items:
            kind = type(value)
            if kind is str:
                if not value:
                    continue
                parsed = texts.get(value)
                if parsed is None:
                    parsed = texts[value] = (normalize_facet(value), parse_number(value))
                key, number = parsed
                if key not in seen_keys:
                    seen_keys.add(key)
                    strings[key].append(docid)
                    if key not in displays:
                        displays[key] = value
                if number is not None and number not in seen_spelled:
                    seen_spelled.add(number)
                    numbers.append(number)
                    number_ids.append(docid)
                    real.append(False)
            elif kind is bool:
                text = "true" if value else "false"
                if text not in seen_keys:
                    seen_keys.add(text)
                    strings[text].append(docid)
                    if text not in displays:
                        displays[text] = text
            elif value is not None:
                number = float(value)
                if math.isfinite(number) and number not in seen_reals:
                    seen_reals.add(number)
                    numbers.append(number)
                    number_ids.append(docid)
                    real.append(True)

    # -- results --------------------------------------------------------

    def numbers(self) -> dict[str, NumberChunk]:
        """Per field, its number rows (the columns' and the values' ones, concatenated)."""
        chunks: dict[str, list[NumberChunk]] = defaultdict(list)
        for name, batch in self._number_chunks.items():
            chunks[name].extend(batch)
        for name, (values, ids, real) in self._numbers.items():
            if ids:
                chunks[name].append((np.array(values, dtype=np.float64),
                                     np.array(ids, dtype=np.uint32),
                                     np.array(real, dtype=bool)))  # fmt: skip
        return {
            name: tuple(np.concatenate(column) for column in zip(*parts, strict=True))
            for name, parts in chunks.items()
        }  # type: ignore[misc]

    def touched(self) -> list[str]:
        """Every field with an entry (each present path EXISTS first)."""
        return [name for (name, kind) in self.flags if kind == EXISTS]
