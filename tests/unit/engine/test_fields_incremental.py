"""Views extended batch by batch equal views rebuilt from every row.

FieldValues keeps its sorted groups (strings and numbers) and the views built from them
(values per docid, the by-docid layout) across batches of adds, merging each batch's
rows in on the next read instead of sorting every row again; a deletion drops them.
After any sequence of batches, replacements and deletions, with reads between them or
not, every view must equal, array for array, the one a store read only at the end
rebuilds from its rows, and hold the same docids per value as a store built from
scratch from the surviving documents.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sift.engine.fields import FieldStore
from sift.engine.fields.groups import Groups

SETTINGS = settings(
    max_examples=int(os.environ.get("SIFT_PROPERTY_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

VALUES = st.one_of(
    st.sampled_from([0, -0.0, 1, 1.5, 2, 7, -3, 1e9, 2.5]),
    st.sampled_from(["a", "B", "c", "12", "1.5", "x y"]),
    st.booleans(),
    st.lists(st.sampled_from([1, 2, 3, "a", "b", "2"]), max_size=3),
)
doc = st.dictionaries(st.sampled_from(["n", "s", "m"]), VALUES, max_size=3)
# (documents, ascending docids?, replace the first?, delete the last?, read views after?)
step = st.tuples(st.lists(doc, max_size=8), st.booleans(), st.booleans(), st.booleans(),
                 st.booleans())


def _groups(groups: Groups) -> tuple[Any, ...]:
    ptr, value_index = groups.by_doc()
    single = groups.single_values()
    return (groups.values.tolist(), groups.offsets.tolist(), groups.ids.tolist(),
            groups.ids.dtype, ptr.tolist(), value_index.tolist(),
            None if single is None else single.tolist(), groups.bits().tolist())


def _views(store: FieldStore) -> dict[str, Any]:
    """Every view a filter, facet or sort reads, per field, array for array."""
    views: dict[str, Any] = {}
    size = int(store.universe.max()) + 2 if store.universe else 1
    for name in store.fields():
        field = store._fields[name]
        views[name] = (_groups(field.string_groups()), _groups(field.numeric()),
                       _groups(field.real_numbers()), field.merged(),
                       field.sort_ranks(size, False).tolist(),
                       field.sort_ranks(size, True).tolist())
    return views


def _members(store: FieldStore) -> dict[str, Any]:
    """Each field's docids per value, as sets (a fresh store adds rows in another order)."""
    out: dict[str, Any] = {}
    for name in store.fields():
        field = store._fields[name]
        for kind, groups in (("s", field.string_groups()), ("n", field.numeric()),
                             ("r", field.real_numbers())):
            members = [(value, sorted(groups.ids[a:b].tolist())) for value, a, b in
                       zip(groups.values.tolist(), groups.offsets[:-1], groups.offsets[1:],
                           strict=True)]
            if members:  # a field whose documents are all gone is still listed
                out[name, kind] = members
    return out


def _warm(store: FieldStore) -> None:
    for name in store.fields():
        store.warm(name)
        field = store._fields[name]
        field.numeric().by_doc()  # the views warm leaves to a first read, too
        field.string_groups().by_doc()


@SETTINGS
@given(steps=st.lists(step, min_size=1, max_size=6))
def test_views_extended_batch_by_batch_equal_views_rebuilt(
    steps: list[tuple[list[dict[str, Any]], bool, bool, bool, bool]],
) -> None:
    warmed, cold = FieldStore(["*"], ["*"]), FieldStore(["*"], ["*"])
    live: dict[int, dict[str, Any]] = {}
    low, high = 0, 10_000
    for docs, ascending, replace, delete, read in steps:
        # Docids past every other one (an import's), or below them (not yet taken).
        first = high if ascending else low
        if ascending:
            high += len(docs)
        else:
            low += len(docs)
        for store in (warmed, cold):
            store.add_range(first, docs)
        live.update(zip(range(first, first + len(docs)), docs, strict=True))
        if replace and docs:
            for store in (warmed, cold):
                store.remove_many([(first, live[first])])
                store.add_many([(first, docs[-1])])
            live[first] = docs[-1]
        if delete and docs:
            last = first + len(docs) - 1
            for store in (warmed, cold):
                store.remove_many([(last, live[last])])
            del live[last]
        if read:
            _warm(warmed)
    assert _views(warmed) == _views(cold)
    fresh = FieldStore(["*"], ["*"])
    for docid in sorted(live):
        fresh.add_range(docid, [live[docid]])
    assert _members(warmed) == _members(fresh)


def test_numeric_groups_extended_equal_a_rebuild() -> None:
    """Groups.extended against from_sorted over the same rows (random floats with
    repeats, -0.0 beside 0.0, docids listed twice)."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        old_values = rng.choice([-0.0, 0.0, 1.0, 2.5, 3.0, -7.0], rng.integers(0, 12))
        old_ids = rng.integers(0, 40, len(old_values)).astype(np.uint32)
        new_values = rng.choice([-0.0, 0.0, 1.0, 4.0, -9.0, 2.5], rng.integers(0, 12))
        new_ids = rng.integers(0, 60, len(new_values)).astype(np.uint32)
        order = np.argsort(old_values, kind="stable")
        old = Groups.from_sorted(old_values[order], old_ids[order])
        old.single_values()
        old.by_doc()
        values = np.concatenate((old_values[order], new_values))
        ids = np.concatenate((old_ids[order], new_ids))
        order = np.argsort(values, kind="stable")
        rebuilt = Groups.from_sorted(values[order], ids[order])
        assert _groups(old.extended(new_values, new_ids)) == _groups(rebuilt)
