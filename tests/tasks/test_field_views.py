"""The task worker rebuilds the filter and facet views a batch dropped once its queue is empty."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from sift.engine.index import SearchIndex
from tests.conftest import run_task


def test_views_a_batch_dropped_are_built_once_the_queue_is_empty(
    open_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The idle merge's warm-up (after OPTIMIZE_IDLE_S) builds them too: kept out, so that
    # only the worker's own rebuild, once its queue is empty, can.
    monkeypatch.setattr(SearchIndex, "warm", lambda self: 0)
    settings = {"filterableAttributes": ["price", "brand"]}
    run_task(open_client, "PATCH", "/indexes/shop/settings", json=settings)
    docs = [{"id": i, "price": i, "brand": f"b{i % 3}"} for i in range(30)]
    task = run_task(open_client, "POST", "/indexes/shop/documents", json=docs)
    assert task["status"] == "succeeded", task
    index = open_client.app.state.services.catalog.get("shop")  # type: ignore[attr-defined]
    fields = index.field_store._fields
    deadline = time.monotonic() + 5.0
    # No search has filtered or faceted: only the worker can have built these.
    while fields["price"]._numeric is None or fields["brand"]._string_groups is None:
        assert time.monotonic() < deadline, "the worker did not build the views"
        time.sleep(0.02)
    found = open_client.post("/indexes/shop/search", json={"filter": "price < 3"}).json()
    assert found["estimatedTotalHits"] == 3
