"""/webhooks through the ASGI app, and a real delivery to a local receiver."""

from __future__ import annotations

import gzip
import http.server
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from sift.ops.webhooks import MAX_WEBHOOKS, RESERVED_UUID
from tests.conftest import MASTER_KEY, make_client, run_task


def test_webhook_lifecycle(client: TestClient) -> None:
    assert client.get("/webhooks").json() == {"results": []}
    created = client.post(
        "/webhooks",
        json={
            "url": "https://example.com/hook",
            "headers": {"Authorization": "Bearer s3cr3t-t0ken"},
        },
    )
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["url"] == "https://example.com/hook" and hook["isEditable"] is True
    assert hook["headers"]["Authorization"].endswith("XXX...")  # the secret is never shown
    assert "s3cr3t" not in created.text
    uid = hook["uuid"]
    assert client.get(f"/webhooks/{uid}").json() == hook
    assert client.get("/webhooks").json() == {"results": [hook]}

    updated = client.patch(
        f"/webhooks/{uid}",
        json={"url": "https://example.com/new", "headers": {"Authorization": None, "X-A": "1"}},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["url"] == "https://example.com/new"
    assert updated.json()["headers"] == {"X-A": "1"}
    assert client.patch(f"/webhooks/{uid}", json={"headers": None}).json()["headers"] == {}

    assert client.delete(f"/webhooks/{uid}").status_code == 204
    missing = client.get(f"/webhooks/{uid}")
    assert missing.status_code == 404 and missing.json()["code"] == "webhook_not_found"
    assert client.delete(f"/webhooks/{uid}").json()["code"] == "webhook_not_found"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid_webhook_url"),
        ({"url": "not a url"}, "invalid_webhook_url"),
        ({"url": "https://a.example/", "headers": ["x"]}, "invalid_webhook_headers"),
        ({"url": "https://a.example/", "uuid": "x"}, "immutable_webhook_uuid"),
        ({"url": "https://a.example/", "isEditable": False}, "immutable_webhook_is_editable"),
        ({"url": "https://a.example/", "other": 1}, "bad_request"),
    ],
)
def test_webhook_bodies_are_validated(client: TestClient, body: dict, code: str) -> None:
    response = client.post("/webhooks", json=body)
    assert response.status_code == 400 and response.json()["code"] == code, response.text


def test_webhook_uuid_must_be_a_uuid_and_the_count_is_capped(client: TestClient) -> None:
    assert client.get("/webhooks/nope").json()["code"] == "invalid_webhook_uuid"
    for i in range(MAX_WEBHOOKS):
        assert client.post("/webhooks", json={"url": f"https://a.example/{i}"}).status_code == 201
    over = client.post("/webhooks", json={"url": "https://a.example/over"})
    assert over.status_code == 400 and over.json()["code"] == "too_many_webhooks"


def test_the_configured_webhook_is_listed_and_read_only(tmp_path: Path) -> None:
    with make_client(
        tmp_path,
        master_key=MASTER_KEY,
        task_webhook_url="https://hooks.example/tasks",
        task_webhook_authorization_header="Bearer configured-secret",
    ) as c:
        c.headers["Authorization"] = f"Bearer {MASTER_KEY}"
        (hook,) = c.get("/webhooks").json()["results"]
        assert hook["uuid"] == RESERVED_UUID and hook["isEditable"] is False
        assert "configured-secret" not in str(hook)
        patched = c.patch(f"/webhooks/{RESERVED_UUID}", json={"url": "https://x.example/"})
        assert patched.status_code == 400 and patched.json()["code"] == "immutable_webhook"
        assert c.delete(f"/webhooks/{RESERVED_UUID}").json()["code"] == "immutable_webhook"


def test_webhook_routes_need_webhook_actions(client: TestClient) -> None:
    key = client.post(
        "/keys", json={"actions": ["webhooks.get"], "indexes": ["*"], "expiresAt": None}
    ).json()["key"]
    auth = {"Authorization": f"Bearer {key}"}
    assert client.get("/webhooks", headers=auth).status_code == 200
    denied = client.post("/webhooks", json={"url": "https://a.example/"}, headers=auth)
    assert denied.status_code == 403 and denied.json()["code"] == "invalid_api_key"


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: queue.Queue

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.put((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, queue.Queue]]:
    received: queue.Queue = queue.Queue()
    handler = type("Handler", (_Receiver,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


def test_finished_tasks_reach_a_real_receiver(
    client: TestClient, receiver: tuple[str, queue.Queue]
) -> None:
    url, received = receiver
    created = client.post("/webhooks", json={"url": url, "headers": {"X-Secret": "abc"}})
    assert created.status_code == 201
    task = run_task(client, "POST", "/indexes/books/documents", json=[{"id": 1, "t": "x"}])
    headers, body = received.get(timeout=20)
    assert headers["Content-Encoding"] == "gzip" and headers["X-Secret"] == "abc"
    delivered = [orjson.loads(line) for line in gzip.decompress(body).splitlines()]
    (mine,) = [t for t in delivered if t["uid"] == task["uid"]]
    assert mine["status"] == "succeeded" and mine["type"] == "documentAdditionOrUpdate"
    assert mine["details"]["indexedDocuments"] == 1
