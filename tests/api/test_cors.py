"""Cross-origin calls as Meilisearch answers them: any origin by default, every route."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import MASTER_KEY, make_client

SITE = "https://www.example.com"
# What meilisearch-js and instant-meilisearch send, and custom headers users add.
SDK_HEADERS = "authorization, content-type, x-meilisearch-client, meili-include-metadata"


def preflight(client: TestClient, path: str, method: str = "POST", origin: str = SITE):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": SDK_HEADERS,
        },
    )


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/indexes/movies/search", "POST"),
        ("/multi-search", "POST"),
        ("/indexes/movies/documents", "PUT"),
        ("/indexes/movies/settings", "PATCH"),
        ("/tasks/1", "GET"),
        ("/keys/abc", "DELETE"),
        ("/no/such/route", "GET"),
    ],
)
def test_preflight_is_answered_for_every_route(client: TestClient, path: str, method: str) -> None:
    answer = preflight(client, path, method)
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert method in answer.headers["access-control-allow-methods"]
    assert answer.headers["access-control-allow-headers"] == SDK_HEADERS
    assert answer.headers["access-control-max-age"] == "86400"


def test_answers_and_errors_carry_the_origin_header(client: TestClient) -> None:
    ok = client.get("/version", headers={"Origin": SITE})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "*"
    missing = client.get("/indexes/nope", headers={"Origin": SITE})
    assert missing.status_code == 404 and missing.headers["access-control-allow-origin"] == "*"
    denied = client.get("/keys", headers={"Origin": SITE, "Authorization": "Bearer wrong"})
    assert denied.status_code == 403 and denied.headers["access-control-allow-origin"] == "*"
    # No credentials: the dashboard's cookie is never sent cross-origin.
    assert "access-control-allow-credentials" not in ok.headers


def test_origins_can_be_restricted(tmp_path: Path) -> None:
    allowed = "https://shop.example.com"
    with make_client(
        tmp_path, master_key=MASTER_KEY, cors_origins=f"{allowed}, http://127.0.0.1:8080"
    ) as client:
        client.headers["Authorization"] = f"Bearer {MASTER_KEY}"
        answer = preflight(client, "/indexes/movies/search", origin=allowed)
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == allowed
        refused = preflight(client, "/indexes/movies/search", origin=SITE)
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        simple = client.get("/version", headers={"Origin": allowed})
        assert simple.headers["access-control-allow-origin"] == allowed
        assert "Origin" in simple.headers["vary"]
        other = client.get("/version", headers={"Origin": SITE})
        assert other.status_code == 200  # the browser, not Sift, withholds it from the page
        assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize("vary", [None, "Accept-Encoding"])
@pytest.mark.parametrize("origin", [None, SITE])
def test_the_shortcut_answers_as_starlettes_middleware(
    vary: str | None, origin: str | None
) -> None:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from sift.config import load_config
    from sift.http.cors import CORS, cors_options

    def page(_: object) -> PlainTextResponse:
        return PlainTextResponse("ok", headers={"Vary": vary} if vary else None)

    answers = []
    for layer in (CORSMiddleware, CORS):
        options = cors_options(load_config({}, environ={}))
        app = Starlette(routes=[Route("/", page)], middleware=[Middleware(layer, **options)])
        with TestClient(app) as test:
            answer = test.get("/", headers={"Origin": origin} if origin else {})
            answers.append(answer.headers.multi_items())
    assert answers[0] == answers[1]
    assert [v for k, v in answers[1] if k == "vary"][-1].endswith("Origin")
