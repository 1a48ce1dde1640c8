"""fix2's hostile-input pass through the ASGI app: each case was a 500, a mis-read input or
a request that ran for minutes; each now answers Meilisearch's 4xx (or reads the input
right) and changes nothing."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from sift.engine.query import FIELD_CODES
from sift.errors import ERROR_TABLE
from sift.http.routes.documents import LISTING_CODES
from sift.http.routes.similar import SIMILAR_CODES
from sift.storage.schema import insight_events
from tests.conftest import make_client, run_task


@pytest.fixture
def places(client: TestClient) -> TestClient:
    docs = [{"id": i, "n": i, "_geo": {"lat": 1.0 + i, "lng": 2.0}} for i in range(3)]
    run_task(client, "POST", "/indexes/places/documents", json=docs)
    run_task(client, "PATCH", "/indexes/places/settings",
             json={"filterableAttributes": ["n"], "sortableAttributes": ["_geo", "n"]})  # fmt: skip
    return client


@pytest.mark.parametrize(
    ("point", "says"),
    [
        ("1e400, 0", "expected expression formated like `_geoPoint(latitude, longitude)`"),
        ("0, -1e400", "expected expression formated like"),
        ("1..2, 0", "expected expression formated like"),  # the pattern takes it
        ("e, 0", "expected expression formated like"),
        ("91, 0", "Latitude must be contained between -90 and 90 degrees."),
        ("0, -180.5", "Longitude must be contained between -180 and 180 degrees."),
    ],
)
def test_a_geo_point_sort_that_is_no_point_is_invalid(
    places: TestClient, point: str, says: str
) -> None:
    """`_geoPoint(1e400, 0)`: the distance's cosine of an infinity raised (a 500);
    `_geoPoint(1..2, 0)`: float() raised (a 500)."""
    for url, body, code in [
        ("/indexes/places/search", {"sort": [f"_geoPoint({point}):desc"]}, "invalid_search_sort"),
        ("/indexes/places/documents/fetch", {"sort": [f"_geoPoint({point}):asc"]},
         "invalid_document_sort"),
    ]:  # fmt: skip
        response = places.post(url, json=body)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == code
        assert says in response.json()["message"]


def test_geo_points_at_the_bounds_still_sort(places: TestClient) -> None:
    for point in ("90, 180", "-90, -180", "-0, -0", "1e-400, 0"):
        response = places.post("/indexes/places/search", json={"sort": [f"_geoPoint({point}):asc"]})
        assert response.status_code == 200, response.text
        assert len(response.json()["hits"]) == 3


def test_a_filter_on_a_long_dotted_name_is_refused_at_once(places: TestClient) -> None:
    """Every ancestor of `a.a.a…` was built as a string to check it against the
    filterable attributes: 100,000 letters took 82 s before its 400."""
    name = ".".join(["a"] * 50_000)
    began = time.monotonic()
    response = places.post("/indexes/places/search", json={"filter": f"{name} = 1"})
    took = time.monotonic() - began
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_search_filter"
    assert took < 10, took  # ~20 s before the change on the shared machine, ~0.1 s after


def _click(**extra: Any) -> dict[str, Any]:
    return {"eventType": "click", "eventName": "Clicked", "indexUid": "places",
            "objectId": "1", "position": 0, **extra}  # fmt: skip


def _raw_post(client: TestClient, url: str, body: Any, headers: dict[str, bytes]) -> httpx.Response:
    """A POST whose header bytes reach the app as they are: the TestClient re-encodes
    header values as UTF-8 text (so `\\xe9` arrived as `\\xc3\\xa9`). On the TestClient's
    own event loop, where the app's services live."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as raw:
            return await raw.post(url, json=body, headers=headers)

    assert client.portal is not None
    return client.portal.call(send)


def test_a_user_id_header_is_read_as_utf8(tmp_path: Any) -> None:
    """Starlette's headers are Latin-1: `X-MS-USER-ID: é` (UTF-8 bytes) was the user `Ã©`,
    another than the body's `"userId": "é"`. Bytes that are not UTF-8 name no user."""
    with make_client(tmp_path, analytics_raw_user_ids=True) as client:
        run_task(client, "POST", "/indexes/places/documents", json=[{"id": 1}])
        sent = client.post("/events", json=_click(), headers={"X-MS-USER-ID": "é".encode()})
        assert sent.status_code == 201, sent.text
        assert client.post("/events", json=_click(userId="é")).status_code == 201
        bad = _raw_post(client, "/events", _click(), {"X-MS-USER-ID": b"\xe9\xff"})
        assert bad.status_code == 400 and bad.json()["code"] == "invalid_event_user_id"
        searched = _raw_post(client, "/indexes/places/search", {}, {"X-MS-USER-ID": b"\xe9\xff"})
        assert searched.status_code == 200, searched.text
        services = client.app.state.services
        services.analytics.flush()
        with services.db.read() as conn:
            rows = conn.execute(sa.select(insight_events).order_by(insight_events.c.id))
            assert [row.user_id for row in rows] == ["é", "é"]


@pytest.mark.parametrize("table", [FIELD_CODES, SIMILAR_CODES, LISTING_CODES])
def test_every_parameter_table_names_known_codes(table: dict[str, str]) -> None:
    """The routes' parameter tables are spelled out; each code must be one sift.errors
    maps (SiftError raises KeyError for another, only when that parameter is bad)."""
    assert table and all(code in ERROR_TABLE for code in table.values())


def test_the_document_listing_codes_name_each_parameter() -> None:
    assert LISTING_CODES["retrieveVectors"] == "invalid_document_retrieve_vectors"
    assert LISTING_CODES["useNetwork"] == "invalid_document_use_network"
