"""A batch's searchable values, gathered for the batch at once.

Indexing needs every searchable value of a batch as texts, in document order and, within
a document, in its fields' order (term ids are given in order of first appearance, field
ids likewise), with the document and field of each value. Walking each document's
values in Python (a type test, a field lookup and four appends a value) took about a
fifth of a large import's indexing time. When no value is an object and no array holds
an object or an array, the batch's keys and values are read end to end in one pass each
(``chain``), the field of every value looked up in one ``map``, and the texts converted
in one call: an array of scalars is one value whose texts are its items, as ``flatten``
gives it, and an empty array is no value at all (nor a field). Batches with nested
values are still walked one document at a time (each such document flattened first).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain, compress, repeat
from operator import is_, ne
from typing import Any

import numpy as np

from sift.engine.store import flatten, text_values

_NESTED = frozenset((dict, list))  # a document with such values is flattened first
_PLAIN = frozenset((str, int, float))  # one text each, str(value) (not bool: "true")


@dataclass
class BatchValues:
    """Every searchable value of a batch: its texts (``texts_per_value`` of them each,
    in order), its document's position in the batch and its field id; ``names``: the
    batch's top-level keys, document after document (the field distribution's)."""

    texts: list[str]
    texts_per_value: np.ndarray
    value_doc: np.ndarray
    value_field: np.ndarray
    names: list[str]


class _FieldIds(dict[str, int]):
    """Field id by name, asking ``field_of`` for a name the first time it is seen."""

    def __init__(self, field_of: Callable[[str], int]) -> None:
        super().__init__()
        self._field_of = field_of

    def __missing__(self, name: str) -> int:
        fid = self[name] = self._field_of(name)
        return fid


def batch_values(batch: Sequence[dict[str, Any]], field_of: Callable[[str], int]
                 ) -> BatchValues:
    """The searchable values of ``batch``; ``field_of(name)`` is a field's id, or -1
    for one that is not searchable (asked once a name, in order of first appearance)."""
    names = list(chain.from_iterable(map(dict.keys, batch)))
    keys = names
    values = list(chain.from_iterable(map(dict.values, batch)))
    types = list(map(type, values))
    kinds = set(types)
    if dict in kinds:
        return _walked(batch, field_of, names)
    docs = np.repeat(np.arange(len(batch), dtype=np.int64),
                     np.fromiter(map(len, batch), dtype=np.int64, count=len(batch)))
    is_array = None
    if list in kinds:
        is_array = np.fromiter(map(is_, types, repeat(list)), dtype=bool, count=len(types))
        arrays = list(compress(values, is_array.tolist()))
        if not _NESTED.isdisjoint(map(type, chain.from_iterable(arrays))):
            return _walked(batch, field_of, names)
        if not all(arrays):  # flatten() gives an empty array no value: its field is not asked
            kept = np.fromiter(map(ne, values, repeat([])), dtype=bool, count=len(values))
            keys, values = list(compress(keys, kept)), list(compress(values, kept))
            docs, is_array = docs[kept], is_array[kept]
    fields = np.fromiter(map(_FieldIds(field_of).__getitem__, keys), dtype=np.int64,
                         count=len(keys))
    searchable = fields >= 0
    if not searchable.all():
        fields, docs = fields[searchable], docs[searchable]
        values = list(compress(values, searchable.tolist()))
        is_array = None if is_array is None else is_array[searchable]
    # Each value's items (an array's own, one text each as a scalar's) decide the texts'
    # conversion: a searchable value's kinds, not the batch's (a non-searchable bool must
    # not send the searchable strings the slow way).
    items: list[Any] = values
    counts = np.ones(len(values), dtype=np.int64)
    if is_array is not None and is_array.any():
        arrays = list(compress(values, is_array.tolist()))
        counts[is_array] = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
        items = _spliced(values, is_array, arrays, counts)
    item_kinds = set(map(type, items))
    if item_kinds <= _PLAIN:  # one text each, str(item) (not bool: "true")
        texts = items if item_kinds <= {str} else list(map(str, items))
        return BatchValues(texts, counts, docs, fields, names)
    per_value = [[value] if type(value) is str else text_values(value) for value in values]
    counts = np.fromiter(map(len, per_value), dtype=np.int64, count=len(per_value))
    return BatchValues(list(chain.from_iterable(per_value)), counts, docs, fields, names)


def _spliced(values: list[Any], is_array: np.ndarray, arrays: list[list[Any]],
             counts: np.ndarray) -> list[Any]:
    """``values`` with each array (``arrays``, where ``is_array``) replaced by its items,
    ``counts`` items a value. Placed through an object array rather than a list a value:
    tens of thousands of small lists a batch set off the garbage collector's full passes
    over a large index's documents, which doubled the time of the batch's values."""
    spliced = np.empty(int(counts.sum()), dtype=object)
    scalar_at = (np.cumsum(counts) - counts)[~is_array]
    in_array = np.ones(spliced.size, dtype=bool)
    in_array[scalar_at] = False
    spliced[scalar_at] = np.array(list(compress(values, (~is_array).tolist())), dtype=object)
    spliced[in_array] = np.array(list(chain.from_iterable(arrays)), dtype=object)
    return spliced.tolist()


def _walked(batch: Sequence[dict[str, Any]], field_of: Callable[[str], int],
            names: list[str]) -> BatchValues:
    """batch_values one document at a time, a document with nested values flattened."""
    texts: list[str] = []
    texts_per_value: list[int] = []
    value_doc: list[int] = []
    value_field: list[int] = []
    field_ids: dict[str, int] = {}
    for docid, doc in enumerate(batch):
        pairs = doc.items() if _NESTED.isdisjoint(map(type, doc.values())) else flatten(doc)
        for name, value in pairs:
            fid = field_ids.get(name)
            if fid is None:
                fid = field_ids[name] = field_of(name)
            if fid < 0:
                continue
            kind = type(value)
            if kind is str:
                texts.append(value)
                texts_per_value.append(1)
            elif kind is int or kind is float:  # not bool: True is "true", not "1"
                texts.append(str(value))
                texts_per_value.append(1)
            else:
                more = text_values(value)
                texts += more
                texts_per_value.append(len(more))
            value_doc.append(docid)
            value_field.append(fid)
    return BatchValues(texts, np.asarray(texts_per_value, dtype=np.int64),
                       np.asarray(value_doc, dtype=np.int64),
                       np.asarray(value_field, dtype=np.int64), names)
