"""FieldStore against a brute-force model of Meilisearch's filter and facet semantics.

The model walks each document for every query; it shares no code with the
index except ``display_number`` (how a number is printed as a facet key).
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from sift.engine.fields import FieldStore
from sift.engine.fields import facets as fields_facets
from sift.engine.fields import groups as fields_groups
from sift.engine.fields.values import display_number
from sift.engine.filters import parse_filter
from sift.engine.filters import tree as ast

FIELDS = ["a", "b", "c"]
PATHS = ["a", "b", "c", "a.x", "b.x"]
WORDS = ["x", "X", "y", "Yé", "ye", "1", "2.0", "-3", " 10 ", "", "ab", "abc", "true"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 12),
    st.sampled_from([1.5, -0.5, 2.0, 10.0]),
    st.sampled_from(WORDS),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.just("x"), inner, max_size=1)
    ),
    max_leaves=4,
)
documents = st.dictionaries(st.sampled_from([*FIELDS, "a.x"]), values, max_size=3)


def _quote(word: str) -> str:
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


query_values = st.sampled_from([*WORDS, "1.5", "12", "0", "Y", "b"]).filter(bool)


@st.composite
def conditions(draw: st.DrawFn) -> str:
    path = draw(st.sampled_from(PATHS))
    kind = draw(st.sampled_from(["cmp", "to", "in", "exists", "null", "empty", "starts", "has"]))
    v = _quote(draw(query_values))
    if kind == "cmp":
        return f"{path} {draw(st.sampled_from(['=', '!=', '>', '>=', '<', '<=']))} {v}"
    if kind == "to":
        return f"{path} {v} TO {_quote(draw(query_values))}"
    if kind == "in":
        items = ", ".join(_quote(w) for w in draw(st.lists(query_values, max_size=3)))
        return f"{path} {draw(st.sampled_from(['IN', 'NOT IN']))} [{items}]"
    if kind == "exists":
        return f"{path} {draw(st.sampled_from(['EXISTS', 'NOT EXISTS']))}"
    if kind == "null":
        return f"{path} {draw(st.sampled_from(['IS NULL', 'IS NOT NULL']))}"
    if kind == "empty":
        return f"{path} {draw(st.sampled_from(['IS EMPTY', 'IS NOT EMPTY']))}"
    if kind == "starts":
        return f"{path} STARTS WITH {v}"
    return f"{path} CONTAINS {v}"


filters = st.recursive(
    conditions(),
    lambda inner: st.one_of(
        st.builds(lambda x: f"NOT {x}", inner),
        st.builds(lambda x, y: f"({x} AND {y})", inner, inner),
        st.builds(lambda x, y: f"({x} OR {y})", inner, inner),
    ),
    max_leaves=5,
)

# -- the model -----------------------------------------------------------------

_NUM = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def num(text: str) -> float | None:
    return float(text.strip()) if _NUM.fullmatch(text.strip()) else None


def nodes_at(doc: dict[str, Any], path: str) -> list[tuple[Any, bool]]:
    """(value, inside_an_array) of every node reached by ``path``, dots flattening."""
    found: list[tuple[Any, bool]] = []

    def visit(value: Any, rest: str, in_array: bool) -> None:
        if rest == "":
            found.append((value, in_array))
            if isinstance(value, list):
                for item in value:
                    visit(item, "", True)
            return
        if isinstance(value, list):
            for item in value:
                visit(item, rest, True)
        elif isinstance(value, dict):
            for key, child in value.items():
                if rest == key:
                    visit(child, "", False)
                elif rest.startswith(key + "."):
                    visit(child, rest[len(key) + 1 :], False)

    visit(doc, path, False)
    return found


def leaves(doc: dict[str, Any], path: str) -> list[Any]:
    """Scalar facet values: finite numbers, booleans as text, non-empty strings."""
    out = []
    for value, _ in nodes_at(doc, path):
        if isinstance(value, bool):
            out.append("true" if value else "false")
        elif isinstance(value, int | float) and math.isfinite(value):
            out.append(float(value))
        elif isinstance(value, str) and value:
            out.append(value)
    return out


def numbers_of(doc: dict[str, Any], path: str) -> list[float]:
    out = []
    for leaf in leaves(doc, path):
        number = leaf if isinstance(leaf, float) else num(leaf)
        if number is not None:
            out.append(number)
    return out


def strings_of(doc: dict[str, Any], path: str) -> list[str]:
    return [leaf.strip().lower() for leaf in leaves(doc, path) if isinstance(leaf, str)]


def holds(node: ast.FilterNode, doc: dict[str, Any]) -> bool:
    if isinstance(node, ast.And):
        return all(holds(child, doc) for child in node.children)
    if isinstance(node, ast.Or):
        return any(holds(child, doc) for child in node.children)
    if isinstance(node, ast.Not):
        return not holds(node.child, doc)
    if isinstance(node, ast.MatchAll):
        return True
    path = node.attribute
    found = nodes_at(doc, path)
    if isinstance(node, ast.Exists):
        return bool(found)
    if isinstance(node, ast.IsNull):
        return any(v is None and not arr for v, arr in found)
    if isinstance(node, ast.IsEmpty):
        return any(v in ("", [], {}) and not arr for v, arr in found)
    if isinstance(node, ast.Equals | ast.In):
        wanted = (node.value,) if isinstance(node, ast.Equals) else node.values
        return any(
            w.strip().lower() in strings_of(doc, path)
            or (num(w) is not None and num(w) in numbers_of(doc, path))
            for w in wanted
        )
    if isinstance(node, ast.Compare | ast.Between):
        if isinstance(node, ast.Compare):
            low, high = (node.value, None) if node.op[0] == ">" else (None, node.value)
            low_in = high_in = node.op.endswith("=")
        else:
            low, high, low_in, high_in = node.low, node.high, True, True
        bounds = [b for b in (low, high) if b is not None]
        if all(num(b) is not None for b in bounds):
            candidates: list[Any] = numbers_of(doc, path)
            lo, hi = (None if low is None else num(low)), (None if high is None else num(high))
        else:
            candidates = strings_of(doc, path)
            lo = None if low is None else low.strip().lower()
            hi = None if high is None else high.strip().lower()
        return any(
            (lo is None or (c >= lo if low_in else c > lo))
            and (hi is None or (c <= hi if high_in else c < hi))
            for c in candidates
        )
    if isinstance(node, ast.StartsWith):
        return any(s.startswith(node.value.strip().lower()) for s in strings_of(doc, path))
    if isinstance(node, ast.Contains):
        return any(node.value.strip().lower() in s for s in strings_of(doc, path))
    raise AssertionError(node)


class Model:
    """Documents in insertion order plus the first-seen spelling of each string."""

    def __init__(self) -> None:
        self.docs: dict[int, dict[str, Any]] = {}
        self.display: dict[tuple[str, str], str] = {}

    def add_many(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        """As the store takes a batch: a repeated docid keeps its last version, and the
        documents a batch replaces leave before any of its documents arrive (so a
        spelling only they had is forgotten, and the batch's own comes first)."""
        items = dict(batch)
        for docid in items:
            self.remove(docid)
        for docid, doc in items.items():
            self.docs[docid] = doc
            for path in PATHS:
                for leaf in leaves(doc, path):
                    if isinstance(leaf, str):
                        self.display.setdefault((path, leaf.strip().lower()), leaf)

    def remove(self, docid: int) -> None:
        if self.docs.pop(docid, None) is None:
            return
        for path, key in list(self.display):
            if not any(key in strings_of(d, path) for d in self.docs.values()):
                del self.display[(path, key)]

    def select(self, node: ast.FilterNode) -> BitMap:
        return BitMap(i for i, doc in self.docs.items() if holds(node, doc))

    def distribution(self, candidates: BitMap, path: str, limit: int, order: str) -> dict:
        # Which numbers and strings exist (and so merge, 12 with "12") depends on
        # the whole index; only the counts depend on the candidates.
        numbers: dict[float, set[int]] = {}
        strings: dict[str, set[int]] = {}
        for docid, doc in self.docs.items():
            for leaf in leaves(doc, path):
                if isinstance(leaf, float):
                    numbers.setdefault(leaf, set()).add(docid)
                else:
                    strings.setdefault(leaf.strip().lower(), set()).add(docid)
        ranked = []
        merged = set()
        for number in sorted(numbers):
            key = display_number(number)
            docs = numbers[number] | strings.get(key, set())
            if key in strings:
                merged.add(key)
                key = self.display[(path, key)]
            ranked.append((key, len(docs & set(candidates))))
        for key in sorted(strings):
            if key not in merged:
                ranked.append((self.display[(path, key)], len(strings[key] & set(candidates))))
        ranked = [item for item in ranked if item[1]]
        if order == "count":
            ranked.sort(key=lambda item: -item[1])
        return dict(ranked[:limit])

    def stats(self, candidates: BitMap, path: str) -> dict[str, float] | None:
        found = [n for d in candidates for n in numbers_of(self.docs[d], path)]
        return {"min": min(found), "max": max(found)} if found else None


# -- properties ------------------------------------------------------------------

batches = st.lists(st.tuples(st.integers(0, 30), documents), max_size=25)
# SIFT_PROPERTY_EXAMPLES=5000 for a thorough run; the default keeps the suite fast.
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("SIFT_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def build(batch: list[tuple[int, dict]], removed: list[int], filterable: bool = True
          ) -> tuple[FieldStore, Model]:
    """``filterable=False``: the fields only sortable (no bitmaps per string key)."""
    store, model = FieldStore(FIELDS if filterable else [], FIELDS), Model()
    half = len(batch) // 2
    # Two batches and a removal exercise replacement, deletion and cache invalidation.
    # The store is told each document it forgets (it derives its entries from it).
    for part in (batch[:half], batch[half:]):
        store.remove_many([(d, model.docs[d]) for d in dict(part) if d in model.docs])
        store.add_many(part)
        model.add_many(part)
    store.remove_many([(d, model.docs[d]) for d in removed if d in model.docs])
    for docid in removed:
        model.remove(docid)
    return store, model


@PROPERTY_SETTINGS
@given(batch=batches, removed=st.lists(st.integers(0, 30), max_size=5), expr=filters)
def test_evaluate_matches_the_model(batch: list, removed: list[int], expr: str) -> None:
    store, model = build(batch, removed)
    node = parse_filter(expr)
    assert store.evaluate(node) == model.select(node), expr


# "candidates": counted from the candidates' side; "bitsets": multi-valued fields by
# per-value bitsets (fields.groups.BITSET_WORDS_PER_CANDIDATE), the others likewise.
COUNT_PATHS = {"auto": {}, "candidates": {"SPARSE_RATIO": 10**9,
                                          "BITSET_WORDS_PER_CANDIDATE": -1},
               "bitsets": {"SPARSE_RATIO": 10**9, "BITSET_WORDS_PER_CANDIDATE": 10**9}}


@pytest.mark.parametrize("path", sorted(COUNT_PATHS))
@pytest.mark.parametrize("bulk", [False, True])
@PROPERTY_SETTINGS
@given(
    batch=batches,
    removed=st.lists(st.integers(0, 30), max_size=5),
    expr=filters,
    limit=st.integers(1, 6),
    order=st.sampled_from(["alpha", "count"]),
)
def test_facet_distribution_and_stats_match_the_model(
    path: str, bulk: bool, batch: list, removed: list[int], expr: str, limit: int,
    order: str
) -> None:
    store, model = build(batch, removed)
    candidates = store.evaluate(parse_filter(expr))
    threshold = fields_facets.BULK_COUNT_THRESHOLD
    fields_facets.BULK_COUNT_THRESHOLD = -1 if bulk else threshold
    saved = {name: getattr(fields_groups, name) for name in COUNT_PATHS[path]}
    for name, value in COUNT_PATHS[path].items():
        setattr(fields_groups, name, value)
    try:
        got = store.facet_distribution(candidates, PATHS, limit, {"*": order})
    finally:
        fields_facets.BULK_COUNT_THRESHOLD = threshold
        for name, value in saved.items():
            setattr(fields_groups, name, value)
    for path in PATHS:
        assert got[path] == model.distribution(candidates, path, limit, order), path
        assert list(got[path]) == list(model.distribution(candidates, path, limit, order))
        # An empty facet query lists the same values as the distribution.
        hits = store.facet_search(path, None, candidates, limit, sort_by=order)
        expected = model.distribution(candidates, path, limit, order)
        assert hits == [{"value": k, "count": v} for k, v in expected.items()]
    stats = store.facet_stats(candidates, PATHS)
    for path in PATHS:
        assert stats.get(path) == model.stats(candidates, path), path


def _sort_reference(doc: dict[str, Any] | None, path: str, descending: bool) -> tuple:
    if doc is None:
        return (2,)
    numbers = numbers_of(doc, path)
    if numbers:
        return (0, -max(numbers) if descending else min(numbers))
    strings = strings_of(doc, path)
    if strings:
        if descending:
            return (1, (*(-ord(c) for c in max(strings)), 1))
        return (1, min(strings))
    return (2,)


@PROPERTY_SETTINGS
@given(
    batch=batches,
    removed=st.lists(st.integers(0, 30), max_size=5),
    path=st.sampled_from(PATHS),
    descending=st.booleans(),
)
def test_sort_keys_order_like_the_model(
    batch: list, removed: list[int], path: str, descending: bool
) -> None:
    store, model = build(batch, removed)
    docids = np.arange(35)  # includes unknown docids, which sort last
    keys = store.sort_keys(path, docids, descending=descending)
    reference = [_sort_reference(model.docs.get(int(d)), path, descending) for d in docids]
    for i in range(len(docids)):
        for j in range(len(docids)):
            assert (keys[i] < keys[j]) == (reference[i] < reference[j]), (i, j)


@PROPERTY_SETTINGS
@given(batch=batches, removed=st.lists(st.integers(0, 30), max_size=5),
       descending=st.booleans())
def test_a_field_only_sortable_keeps_the_same_keys_and_order(
    batch: list, removed: list[int], descending: bool
) -> None:
    both, _ = build(batch, removed)
    sortable, _ = build(batch, removed, filterable=False)
    docids = np.arange(35)
    for path in PATHS:
        field = sortable._fields.get(path)
        assert (field.sorted_strings() if field else []) == (
            both._fields[path].sorted_strings() if path in both._fields else [])
        assert field is None or not field.strings  # no bitmaps kept
        assert (sortable.sort_keys(path, docids, descending) ==
                both.sort_keys(path, docids, descending)).all()
