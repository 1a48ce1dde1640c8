"""An unexpected exception in a route: one 500 with a request id, one log line, and the
kept-alive connection still serves the client's next request (real uvicorn)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from sift.app import create_app
from sift.config import load_config
from tests.e2e.sift_process import free_port


class Boom(RuntimeError):
    pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, FastAPI]]:
    config = load_config(
        {"data_dir": str(tmp_path / "data"), "config_file": str(tmp_path / "none.toml")},
        environ={},
    )
    app = create_app(config)

    @app.get("/test-failure")
    async def failing() -> None:
        raise Boom("a bug reached the top")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(30)


def test_a_failure_keeps_the_connection_and_logs_one_line_with_the_request_id(
    served: tuple[str, FastAPI], caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = served
    with caplog.at_level(logging.ERROR), httpx.Client(base_url=url) as client:
        failed = client.get("/test-failure")
        health = client.get("/health")  # the same kept-alive connection
        again = client.get("/test-failure")
    assert failed.status_code == 500
    request_id = failed.headers["x-request-id"]
    assert failed.json()["code"] == "internal"
    assert request_id in failed.json()["message"]
    assert health.status_code == 200 and health.headers["x-request-id"] != request_id
    assert again.status_code == 500
    ours = [r for r in caplog.records if r.name == "sift.http"]
    assert [request_id in r.getMessage() for r in ours] == [True, False]
    # The traceback once per distinct failure per minute: the repeat logs one line only.
    assert ours[0].exc_info is not None and ours[1].exc_info is None
    uvicorn_errors = [r for r in caplog.records if r.name.startswith("uvicorn")]
    assert uvicorn_errors == []  # nothing re-raised to the server


def test_a_failure_answered_to_another_origin_is_readable_with_its_request_id(
    served: tuple[str, FastAPI],
) -> None:
    url, _ = served
    origin = {"Origin": "https://www.example.com"}
    with httpx.Client(base_url=url) as client:
        failed = client.get("/test-failure", headers=origin)
    assert failed.status_code == 500
    # Without these a browser page sees only an opaque network error, not the id to quote.
    assert failed.headers["access-control-allow-origin"] == "*"
    assert "x-request-id" in failed.headers["access-control-expose-headers"].lower()
