"""Webhook validation, redaction and delivery (retries through httpx's mock transport)."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import orjson
import pytest

from sift.errors import SiftError
from sift.ops.webhook_delivery import WebhookDelivery
from sift.ops.webhooks import RESERVED_UUID, check_url, merge_headers, redact, reserved, view
from sift.storage import Database
from sift.storage import tasks as task_rows
from sift.storage import webhooks as webhook_rows
from sift.storage.database import utcnow
from sift.storage.webhooks import WebhookRecord


@pytest.mark.parametrize("url", ["https://example.com/hook", "http://127.0.0.1:8080/x?y=1"])
def test_check_url_accepts_absolute_http_urls(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize("url", ["", "example.com/hook", "ftp://example.com/", "http://", 3, None])
def test_check_url_refuses_anything_else(url: object) -> None:
    with pytest.raises(SiftError) as caught:
        check_url(url)
    assert caught.value.code == "invalid_webhook_url"


def test_merge_headers_adds_replaces_and_removes() -> None:
    current = {"A": "1", "B": "2"}
    assert merge_headers(current, {"B": "3", "C": "4", "A": None}) == {"B": "3", "C": "4"}
    assert merge_headers(current, None) == {}
    assert current == {"A": "1", "B": "2"}  # not modified in place


@pytest.mark.parametrize(
    "headers", [["A"], {"Bad Name": "x"}, {"X": "a\r\nInjected: 1"}, {"X": 3}]
)
def test_merge_headers_refuses_what_http_cannot_carry(headers: object) -> None:
    with pytest.raises(SiftError) as caught:
        merge_headers({}, headers)
    assert caught.value.code == "invalid_webhook_headers"


def test_authorization_values_are_redacted_in_views() -> None:
    # The lengths Meilisearch shows (meilisearch-js's webhook and embedder tests).
    assert redact("TOKEN") == "XXX..."
    assert redact("UPDATED TOKEN") == "UPXXXX..."
    assert redact("<your-OpenAI-API-key>") == "<yoXXXXX..."
    assert redact("sk-test-placeholder-api-key") == "sk-XXXXX..."
    webhook = reserved("https://example.com/", "Bearer a-long-secret-token")
    assert webhook is not None
    shown = view(webhook)
    assert shown["uuid"] == RESERVED_UUID and shown["isEditable"] is False
    assert "secret" not in orjson.dumps(shown).decode()
    assert reserved(None, "Bearer x") is None


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path}/sift.db")
    database.migrate()
    return database


def _finished_task(db: Database) -> int:
    with db.write() as conn:
        task = task_rows.enqueue(db, conn, "indexCreation", "books", {"primaryKey": None}, None)
        task_rows.finish(conn, task.uid, "succeeded", {"primaryKey": None}, None, utcnow())
    return task.uid


def _delivery(db: Database, answers: list[int | Exception]) -> tuple[WebhookDelivery, list]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    return WebhookDelivery(db, client=client, sleep=lambda s: None), seen


def test_delivery_posts_gzipped_ndjson_with_the_webhooks_headers(db: Database) -> None:
    uid = _finished_task(db)
    with db.write() as conn:
        webhook_rows.insert(
            conn, WebhookRecord("w1", "https://hooks.example/a", {"X-Team": "search"}, utcnow())
        )
    delivery, seen = _delivery(db, [204])
    delivery.deliver([uid])
    (request,) = seen
    assert request.headers["content-encoding"] == "gzip"
    assert request.headers["content-type"] == "application/x-ndjson"
    assert request.headers["x-team"] == "search"
    lines = gzip.decompress(request.content).splitlines()
    (task,) = [orjson.loads(line) for line in lines]
    assert (task["uid"], task["status"], task["type"]) == (uid, "succeeded", "indexCreation")
    assert delivery.outcomes == {"delivered": 1, "failed": 0}


def test_delivery_retries_server_errors_and_gives_up_on_client_errors(db: Database) -> None:
    uid = _finished_task(db)
    with db.write() as conn:
        webhook_rows.insert(conn, WebhookRecord("w1", "https://hooks.example/a", {}, utcnow()))
    delivery, seen = _delivery(db, [503, httpx.ConnectError("refused"), 200])
    delivery.deliver([uid])
    assert len(seen) == 3 and delivery.outcomes == {"delivered": 1, "failed": 0}
    delivery, seen = _delivery(db, [404])
    delivery.deliver([uid])
    assert len(seen) == 1 and delivery.outcomes == {"delivered": 0, "failed": 1}
    delivery, seen = _delivery(db, [500, 500, 500])
    delivery.deliver([uid])
    assert len(seen) == 3 and delivery.outcomes == {"delivered": 0, "failed": 1}


def test_delivery_without_webhooks_sends_nothing(db: Database) -> None:
    delivery, seen = _delivery(db, [])
    delivery.deliver([_finished_task(db)])
    assert seen == []
