"""A batch's searchable values gathered for the batch at once are those a walk over each
document gives, in the same order, with field ids asked for in the same order."""

from __future__ import annotations

import random
from typing import Any

import pytest

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


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize(("nested", "uniform"), [(False, True), (False, False), (True, False)])
def test_values_as_a_walk_over_each_document_gives_them(seed: int, nested: bool,
                                                        uniform: bool) -> None:
    batch = _batch(seed, nested, uniform)
    names = [name for doc in batch for name in doc]
    got, asked = _asked(batch, batch_values)
    want, asked_walking = _asked(batch, lambda b, f: _walked(b, f, names))
    assert asked == asked_walking
    assert got.texts == want.texts
    assert got.texts_per_value.tolist() == want.texts_per_value.tolist()
    assert got.value_doc.tolist() == want.value_doc.tolist()
    assert got.value_field.tolist() == want.value_field.tolist()
    assert got.names == names
