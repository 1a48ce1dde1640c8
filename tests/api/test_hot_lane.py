"""The hot lane (sift/http/hot_lane.py): a hot request without an Origin or X-Forwarded-*
header skips the middleware's layers and still gets everything they add."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.middleware import Middleware

from sift.app import create_app
from sift.config import load_config
from sift.http.hot_lane import HotLane
from tests.conftest import MASTER_KEY

MASTER = {"Authorization": f"Bearer {MASTER_KEY}"}
# The answer's own headers, the security headers, the request id, then CORS's Vary.
EDGE = ["x-content-type-options", "referrer-policy", "x-frame-options", "x-request-id", "vary"]


def test_a_plain_hot_request_gets_the_layers_headers_in_their_order(client: TestClient) -> None:
    assert isinstance(client.app._hot, HotLane)  # type: ignore[attr-defined]
    answer = client.get("/version")
    assert list(answer.headers)[-5:] == EDGE
    assert answer.headers["vary"] == "Origin"
    with_origin = client.get("/version", headers={"Origin": "https://shop.example"})
    assert with_origin.headers["access-control-allow-origin"] == "*"
    assert set(answer.headers) <= set(with_origin.headers)  # which has CORS's own too
    assert answer.headers["x-request-id"] != with_origin.headers["x-request-id"]
    assert 'route="/version",status="200"}' in client.get("/metrics").text


def test_an_error_and_an_unexpected_failure_on_the_lane_keep_every_header(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = client.get("/version", headers={"Authorization": f"Bearer {MASTER_KEY}x"})
    assert (wrong.status_code, wrong.json()["code"]) == (403, "invalid_api_key")
    assert list(wrong.headers)[-5:] == EDGE
    import sift.http.routes.system as system

    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(system, "JSONResponse", broken)
    failed = client.get("/version")
    assert (failed.status_code, failed.json()["code"]) == (500, "internal")
    assert failed.headers["x-request-id"] in failed.json()["message"]
    assert failed.headers["vary"] == "Origin"  # as CORS adds it to RequestEdge's 500


def test_the_address_limit_applies_on_the_lane(tmp_path: Path) -> None:
    values = {"data_dir": str(tmp_path / "data"), "config_file": str(tmp_path / "none.toml"),
              "master_key": MASTER_KEY, "rate_limit_per_address": "2/m burst 2"}  # fmt: skip
    with TestClient(create_app(load_config(values, environ={}))) as client:
        assert [client.get("/version", headers=MASTER).status_code for _ in range(2)] == [200] * 2
        refused = client.get("/version", headers=MASTER)
        assert (refused.status_code, refused.json()["code"]) == (429, "too_many_requests")
        assert refused.headers["retry-after"] and list(refused.headers)[-5:] == EDGE


def test_a_middleware_the_lane_does_not_know_stops_the_app_from_building(
    tmp_path: Path,
) -> None:
    class Extra:
        def __init__(self, app: object) -> None:
            self.app = app

    values = {"data_dir": str(tmp_path / "data"), "config_file": str(tmp_path / "none.toml")}
    app = create_app(load_config(values, environ={}))
    app.user_middleware.insert(2, Middleware(Extra))
    with pytest.raises(TypeError, match="hot lane"):
        app.build_middleware_stack()
