"""/sources through the ASGI app, with a source whose database is unreachable (the
behaviour against real databases is in tests/sync)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sift.http.schemas import responses
from tests.conftest import MASTER_KEY, make_client
from tests.sync.conftest import eventually

TOML = """
[[sources]]
name = "shop"
url = "mysql://sift:${SHOP_PW}@127.0.0.1:9/shop"
[[sources.tables]]
table = "products"
index = "products"
"""


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("SHOP_PW", "very-secret-pw")
    (tmp_path / "sift.toml").write_text(TOML)
    with make_client(tmp_path, master_key=MASTER_KEY,
                     config_file=str(tmp_path / "sift.toml")) as c:  # fmt: skip
        c.headers["Authorization"] = f"Bearer {MASTER_KEY}"
        yield c


def test_a_source_that_cannot_be_reached_is_reconnecting(client: TestClient) -> None:
    listing = eventually(lambda: (body := client.get("/sources").json())["results"][0][
        "state"] == "reconnecting" and body)  # fmt: skip
    assert listing["total"] == 1
    shop = listing["results"][0]
    assert shop["url"] == "mysql://sift:***@127.0.0.1:9/shop"
    assert "very-secret-pw" not in client.get("/sources/shop").text
    assert shop["tables"] == [{"table": "products", "index": "products"}]
    assert shop["lastError"]
    # The answers are what the OpenAPI document declares.
    responses.SourceList.model_validate(listing)
    responses.Source.model_validate(client.get("/sources/shop").json())
    assert client.get("/health").json() == {"status": "available",
                                            "sources": {"shop": "reconnecting"}}  # fmt: skip
    metrics = client.get("/metrics").text
    assert 'sift_sync_state{source="shop",state="reconnecting"} 1.0' in metrics
    assert 'sift_sync_rows_applied{source="shop"} 0.0' in metrics


def test_unknown_sources_and_resnapshot(client: TestClient) -> None:
    missing = client.get("/sources/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "source_not_found"
    assert client.post("/sources/nope/resnapshot").status_code == 404
    answer = client.post("/sources/shop/resnapshot")
    assert answer.status_code == 202 and answer.json() == {"name": "shop", "state": "new"}
    responses.SourceResnapshot.model_validate(answer.json())


def test_sources_need_their_actions(client: TestClient) -> None:
    def key(actions: list[str]) -> dict[str, str]:
        body = {"actions": actions, "indexes": ["*"], "expiresAt": None}
        return {"Authorization": f"Bearer {client.post('/keys', json=body).json()['key']}"}

    searcher, reader = key(["search"]), key(["sources.get"])
    assert client.get("/sources", headers=searcher).status_code == 403
    assert client.get("/sources", headers=reader).status_code == 200
    assert client.post("/sources/shop/resnapshot", headers=reader).status_code == 403
    assert client.post("/sources/shop/resnapshot", headers=key(["sources.*"])).status_code == 202
