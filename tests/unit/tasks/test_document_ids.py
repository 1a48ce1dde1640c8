"""A chunk's ids checked at once are those (or the error) checked one by one gives."""

from __future__ import annotations

import random
from typing import Any

import pytest

from sift.errors import SiftError
from sift.tasks.documents import document_id, document_ids

ODD = ["a\nb", "", "x" * 512, "x" * 511, "é", "a b", "ok-1_", 7, -3, True, None, 1.5, ["1"]]


def _one_by_one(docs: list[dict[str, Any]]) -> list[str] | str:
    try:
        return [document_id(doc, "id") for doc in docs]
    except SiftError as exc:
        return str(exc)


def _at_once(docs: list[dict[str, Any]]) -> list[str] | str:
    try:
        return document_ids(docs, "id")
    except SiftError as exc:
        return str(exc)


@pytest.mark.parametrize("seed", range(60))
def test_ids_at_once_as_one_by_one(seed: int) -> None:
    rng = random.Random(seed)
    kind = rng.choice(["str", "int"])
    docs: list[dict[str, Any]] = [{"id": f"p-{i}" if kind == "str" else i, "n": i}
                                  for i in range(rng.randint(1, 50))]
    for _ in range(rng.randint(0, 2)):
        spot = rng.randrange(len(docs))
        docs[spot] = {"n": 0} if rng.random() < 0.2 else {"id": rng.choice(ODD)}
    assert _at_once(docs) == _one_by_one(docs)


def test_an_id_with_a_newline_is_refused_among_valid_ones() -> None:
    assert isinstance(_at_once([{"id": "a"}, {"id": "b\nc"}, {"id": "d"}]), str)
