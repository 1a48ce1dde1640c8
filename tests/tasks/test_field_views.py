"""The task worker rebuilds the filter and facet views a batch dropped once its queue is empty."""

from __future__ import annotations

import time
from collections.abc import Callable

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


def test_warming_stops_between_fields_once_interrupted(
    open_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = open_client.app.state.services.catalog  # type: ignore[attr-defined]
    # The worker's own passes kept out: only the calls below build views.
    monkeypatch.setattr(type(catalog), "warm_views", lambda self, interrupted=None: True)
    monkeypatch.setattr(SearchIndex, "warm", lambda self: 0)
    settings = {"filterableAttributes": ["brand", "price"]}
    run_task(open_client, "PATCH", "/indexes/shop/settings", json=settings)
    docs = [{"id": i, "price": i, "brand": f"b{i % 3}"} for i in range(30)]
    assert run_task(open_client, "POST", "/indexes/shop/documents", json=docs)["status"] == (
        "succeeded"
    )
    monkeypatch.undo()
    fields = catalog.get("shop").field_store._fields
    checks: list[int] = []

    def after_one_field() -> bool:
        checks.append(1)
        return len(checks) > 1

    assert catalog.warm_views(interrupted=after_one_field) is False
    built = [fields["brand"]._string_groups is not None, fields["price"]._numeric is not None]
    assert sorted(built) == [False, True]  # one field of the two, whichever came first
    assert catalog.warm_views(interrupted=lambda: False) is True
    assert fields["brand"]._string_groups is not None and fields["price"]._numeric is not None


def test_the_worker_warms_again_after_a_task_interrupted_it(
    open_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = open_client.app.state.services.worker  # type: ignore[attr-defined]
    catalog = open_client.app.state.services.catalog  # type: ignore[attr-defined]
    monkeypatch.setattr(SearchIndex, "warm", lambda self: 0)
    seen: list[bool] = []

    def warm_views(interrupted: Callable[[], bool] = lambda: False) -> bool:
        if not seen:
            worker.notify()  # what a POST's commit does while the views are built
            seen.append(interrupted())
            return not seen[0]
        seen.append(interrupted())
        return True

    monkeypatch.setattr(catalog, "warm_views", warm_views)
    task = run_task(open_client, "POST", "/indexes/shop/documents", json=[{"id": 1}])
    assert task["status"] == "succeeded"
    deadline = time.monotonic() + 5.0
    while len(seen) < 2:
        assert time.monotonic() < deadline, f"the worker did not warm again: {seen}"
        time.sleep(0.02)
    assert seen[0] is True  # the enqueued task interrupted the first pass


def test_no_views_are_built_while_a_payload_is_being_stored(
    open_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = open_client.app.state.services.worker  # type: ignore[attr-defined]
    catalog = open_client.app.state.services.catalog  # type: ignore[attr-defined]
    monkeypatch.setattr(SearchIndex, "warm", lambda self: 0)
    seen: list[bool] = []

    def warm_views(interrupted: Callable[[], bool] = lambda: False) -> bool:
        seen.append(interrupted())
        return not seen[-1]

    monkeypatch.setattr(catalog, "warm_views", warm_views)

    def wait_for(passes: int) -> None:
        deadline = time.monotonic() + 5.0
        while len(seen) < passes:
            assert time.monotonic() < deadline, f"the worker did not warm: {seen}"
            time.sleep(0.02)

    # Another request storing its payload (Services.enqueue_documents) the whole time.
    with worker.receiving():
        task = run_task(open_client, "POST", "/indexes/shop/documents", json=[{"id": 1}])
        assert task["status"] == "succeeded"
        wait_for(1)
        assert all(seen)
    wait_for(len(seen) + 1)  # the next idle pass, within its 0.5 s poll
    assert seen[-1] is False
