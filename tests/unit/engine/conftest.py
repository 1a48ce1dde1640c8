"""Shared builders for the engine tests: a small index from inline documents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sift.engine.index import SearchIndex
from sift.engine.query import SearchParams
from sift.engine.settings import default_settings

MakeIndex = Callable[..., SearchIndex]


def build_index(docs: list[dict[str, Any]], mode: str = "meilisearch", **settings: Any
                ) -> SearchIndex:
    merged = default_settings(mode)
    merged.update(settings)
    index = SearchIndex(merged, "id")
    index.upsert([(str(d["id"]), d) for d in docs])
    return index


def search(index: SearchIndex, q: str | None = None, **body: Any) -> dict[str, Any]:
    if q is not None:
        body["q"] = q
    return index.search(SearchParams.from_dict(body))


def ids(response: dict[str, Any]) -> list[Any]:
    return [hit["id"] for hit in response["hits"]]


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels() -> None:
    """Compile the search kernels before any test searches, as the server does before
    traffic: after a kernel's source changes numba compiles it afresh, seconds on a busy
    machine, and a search that pays for it inside its `searchCutoffMs` skips its last
    ranking steps (a test comparing two searches then sees different scores)."""
    from sift.engine import kernels

    kernels.warm_up()


@pytest.fixture
def make_index() -> MakeIndex:
    return build_index
