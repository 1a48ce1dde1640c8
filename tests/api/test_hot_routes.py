"""The hot routes (search, multi-search, /events, /version, /health) answer as the FastAPI
routes of the same paths did: same methods, errors, metrics labels and OpenAPI description."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient

from sift.http.hot_routes import hot_routes
from tests.conftest import MASTER_KEY, run_task


def test_searches_are_counted_under_their_route_template(client: TestClient) -> None:
    run_task(client, "POST", "/indexes/books/documents", json=[{"id": 1, "title": "Dune"}])
    assert client.post("/indexes/books/search", json={"q": "dune"}).json()["hits"]
    assert client.get("/indexes/books/search", params={"q": "dune"}).json()["hits"]
    text = client.get("/metrics").text
    for method in ("POST", "GET"):
        assert (
            f'sift_http_requests_total{{method="{method}",route="/indexes/{{index_uid}}/search",'
            'status="200"}' in text
        )


def test_other_methods_are_refused_as_before(client: TestClient) -> None:
    for method, path in (("HEAD", "/version"), ("GET", "/multi-search"),
                         ("DELETE", "/indexes/books/search")):  # fmt: skip
        answer = client.request(method, path)
        assert answer.status_code == 405, (method, path)
    assert client.get("/multi-search").json()["code"] == "bad_request"


def test_errors_keep_meilisearchs_format(client: TestClient) -> None:
    bad_uid = client.post("/indexes/a%20b/search", json={})
    assert (bad_uid.status_code, bad_uid.json()["code"]) == (400, "invalid_index_uid")
    missing = client.post("/indexes/nothing/search", json={})
    assert (missing.status_code, missing.json()["code"]) == (404, "index_not_found")
    anonymous = client.post(
        "/indexes/books/search", json={}, headers={"Authorization": ""}
    )
    assert anonymous.json()["code"] == "missing_authorization_header"
    wrong = client.get("/version", headers={"Authorization": f"Bearer {MASTER_KEY}x"})
    assert (wrong.status_code, wrong.json()["code"]) == (403, "invalid_api_key")
    assert client.get("/version").json()["pkgVersion"]


def test_the_path_parameter_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/indexes/{index_uid}/search"]
    for method in ("get", "post"):
        names = [(p["name"], p["in"]) for p in operation[method]["parameters"]]
        assert ("index_uid", "path") in names


def test_an_endpoint_missing_from_the_routers_is_an_error() -> None:
    router = APIRouter()

    @router.get("/here")
    async def here(request: Request) -> None: ...

    async def elsewhere(request: Request) -> None: ...

    assert [route.path for route in hot_routes([router], {here})] == ["/here"]
    with pytest.raises(LookupError):
        hot_routes([router], {here, elsewhere})


def test_a_path_without_parameters_is_matched_against_its_own_routes_alone() -> None:
    router = APIRouter()

    @router.get("/one")
    async def one(request: Request) -> None: ...

    @router.post("/indexes/{uid}/two")
    async def two(request: Request) -> None: ...

    @router.get("/indexes/{uid}/twice")
    async def twice(request: Request) -> None: ...

    @router.post("/indexes/all/twice")
    async def all_twice(request: Request) -> None: ...

    @router.post("/three")
    async def three(request: Request) -> None: ...

    routes = hot_routes([router], {one, two, twice, all_twice, three})
    assert len(routes) == 5
    names = lambda scope: [r.name for r in routes.candidates(scope)]  # noqa: E731
    assert names({"path": "/three", "root_path": ""}) == ["three"]
    # A route with parameters that matches the path too is still tried, in its place.
    assert names({"path": "/indexes/all/twice", "root_path": ""}) == ["twice", "all_twice"]
    assert names({"path": "/indexes/a/two", "root_path": ""}) == ["two", "twice"]
    assert names({"path": "/elsewhere", "root_path": ""}) == ["two", "twice"]
    # Below a prefix the path is not the route's: every route is tried, as Starlette would.
    assert len(names({"path": "/api/one", "root_path": "/api"})) == 5


def test_events_are_a_hot_route_authenticated_before_the_body_is_read(
    client: TestClient,
) -> None:
    assert "/events" in [r.path for r in client.app.hot_routes]  # type: ignore[attr-defined]
    anonymous = client.post("/events", content=b"{not json", headers={"Authorization": ""})
    assert anonymous.json()["code"] == "missing_authorization_header"
    assert client.get("/events").status_code == 405
    click = {"eventType": "click", "eventName": "Clicked", "indexUid": "books", "userId": "v1"}
    assert client.post("/events", json=click).status_code == 201
    assert 'route="/events",status="201"}' in client.get("/metrics").text


def test_hot_requests_go_through_the_apps_own_middleware_alone(client: TestClient) -> None:
    from starlette.middleware.cors import CORSMiddleware

    assert isinstance(client.app._lane, CORSMiddleware)  # type: ignore[attr-defined]
    answer = client.get("/version", headers={"Origin": "https://shop.example"})
    # CORS (outermost), the request id and security headers (RequestEdge): all still there.
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["x-request-id"] and answer.headers["x-frame-options"] == "DENY"
    assert 'route="/version",status="200"}' in client.get("/metrics").text


def test_an_unexpected_failure_of_a_hot_endpoint_is_answered_with_the_request_id(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sift.http.routes.system as system

    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(system, "JSONResponse", broken)
    answer = client.get("/version")
    assert (answer.status_code, answer.json()["code"]) == (500, "internal")
    assert answer.headers["x-request-id"] in answer.json()["message"]
    assert client.get("/indexes").status_code == 200  # the app goes on serving
