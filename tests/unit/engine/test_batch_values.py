"""A batch's searchable values gathered for the batch at once are those a walk over each
document gives, in the same order, with field ids asked for in the same order."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sift.engine.batch.values import _walked, batch_values

NAMES = ["id", "title", "tags", "price", "hidden", "meta"]


def _value(rng: random.Random, nested: bool) -> Any:
    kinds = ["word", "int", "float", "bool", "none", "empty"] + (["list", "dict"] if nested
                                                                   else [])
    kind = rng.choice(kinds)
    return {"word": lambda: rng.choice(["red", "Blue sky", "é", "", "x-1"]),
            "int": lambda: rng.randint(-5, 10**12), "float": lambda: rng.random() * 100,
            "bool": lambda: rng.random() < 0.5, "none": lambda: None, "empty": lambda: "",
            "list": lambda: [rng.choice(["a", 1, None, True, [2, "b"], {"k": "v"}])
                             for _ in range(rng.randint(0, 3))],
            "dict": lambda: {"k": rng.choice(["v", 3, [1, "w"], {"deep": "x"}])}}[kind]()


def _batch(seed: int, nested: bool, uniform: bool) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    docs = []
    for _ in range(rng.randint(1, 60)):
        names = NAMES if uniform else rng.sample(NAMES, rng.randint(0, len(NAMES)))
        docs.append({name: _value(rng, nested) for name in names})
    return docs


def _asked(batch: list[dict[str, Any]], gather: Any) -> tuple[Any, list[str]]:
    asked: list[str] = []

    def field_of(name: str) -> int:
        asked.append(name)
        return -1 if name == "hidden" else len(asked)

    return gather(batch, field_of), asked


def _as_walked(batch: list[dict[str, Any]]) -> None:
    names = [name for doc in batch for name in doc]
    got, asked = _asked(batch, batch_values)
    want, asked_walking = _asked(batch, lambda b, f: _walked(b, f, names))
    assert asked == asked_walking
    assert got.texts == want.texts
    assert got.texts_per_value.tolist() == want.texts_per_value.tolist()
    assert got.value_doc.tolist() == want.value_doc.tolist()
    assert got.value_field.tolist() == want.value_field.tolist()
    assert got.names == names


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize(("nested", "uniform"), [(False, True), (False, False), (True, False)])
def test_values_as_a_walk_over_each_document_gives_them(seed: int, nested: bool,
                                                        uniform: bool) -> None:
    _as_walked(_batch(seed, nested, uniform))


WORDS = st.text(max_size=5)
NUMBERS = WORDS | st.integers() | st.floats()
TRUTHS = NUMBERS | st.booleans()
SCALARS = TRUTHS | st.none()
ARRAYS = st.lists(SCALARS, max_size=4)  # empty ones included: flatten() gives them no value
JSON = st.recursive(SCALARS | ARRAYS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(["k", "hidden"]), inner, max_size=2),
                    max_leaves=6)


def _documents(values: st.SearchStrategy[Any]) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(st.dictionaries(st.sampled_from(NAMES), values, max_size=len(NAMES)),
                    max_size=12)


@settings(max_examples=200)
@given(st.sampled_from([WORDS, NUMBERS, TRUTHS, SCALARS]).flatmap(
    lambda scalars: _documents(scalars | st.lists(scalars, max_size=4))))
def test_arrays_of_scalars_are_gathered_as_a_walk_gives_them(batch: list[dict[str, Any]]
                                                             ) -> None:
    """The batch path (no walk) for flat documents whose arrays hold scalars: an array is
    one value of its items' texts, an empty array no value, and no field id is asked
    for it."""
    _as_walked(batch)


@settings(max_examples=200)
@given(_documents(JSON))
def test_any_documents_are_gathered_as_a_walk_gives_them(batch: list[dict[str, Any]]) -> None:
    _as_walked(batch)
