"""A real `sift serve` process: health, graceful shutdown on SIGTERM, the version flag."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest

import sift
from tests.e2e.sift_process import ServerPool, SiftProcess

pytestmark = pytest.mark.e2e


def test_version_flag() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sift", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"sift, version {sift.__version__}"


def test_health_answers_without_a_key(servers: ServerPool) -> None:
    server = servers.new()
    server.start()
    response = httpx.get(f"{server.url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "available"}
    # ... while the rest of the API wants the master key.
    assert httpx.get(f"{server.url}/indexes").status_code == 401


def wait_succeeded(client: httpx.Client, uid: int, timeout: float = 30) -> None:
    """Until the task ``uid`` has succeeded; it must not fail on the way."""
    deadline = time.monotonic() + timeout
    while (task := client.get(f"/tasks/{uid}").json())["status"] != "succeeded":
        assert task["status"] in ("enqueued", "processing"), task
        assert time.monotonic() < deadline, task
        time.sleep(0.05)


def upload_during_sigterm(server: SiftProcess, docs: list[dict]) -> tuple[httpx.Response, int]:
    """Upload ``docs`` slowly and SIGTERM the server while the body is still arriving:
    the answer to the upload and the server's exit status."""
    body = b"\n".join(orjson.dumps(d) for d in docs)
    first_part_sent = threading.Event()

    def slow_body() -> Iterator[bytes]:
        # The request is under way when SIGTERM arrives and still uploading after it.
        yield body[:1000]
        first_part_sent.set()
        for start in range(1000, len(body), len(body) // 5):
            time.sleep(0.2)
            yield body[start : start + len(body) // 5]

    answer: dict[str, httpx.Response] = {}

    def upload() -> None:
        with server.client() as client:
            answer["response"] = client.post(
                "/indexes/docs/documents",
                content=slow_body(),
                headers={"Content-Type": "application/x-ndjson"},
            )

    uploader = threading.Thread(target=upload)
    uploader.start()
    assert first_part_sent.wait(10)
    time.sleep(0.1)  # let the server start reading the request
    try:
        status = server.terminate(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running 60 s after SIGTERM:\n{server.log_tail(20_000)}")
    uploader.join(30)
    return answer["response"], status


def test_sigterm_lets_the_in_flight_request_finish(servers: ServerPool) -> None:
    server = servers.new()
    server.start()
    response, _ = upload_during_sigterm(
        server, [{"id": i, "title": f"document {i}"} for i in range(2000)]
    )
    assert response.status_code == 202, response.text

    # The acknowledged task survived the shutdown and completes after a restart.
    server.start()
    uid = response.json()["taskUid"]
    with server.client() as client:
        wait_succeeded(client, uid)
        assert client.get("/indexes/docs/stats").json()["numberOfDocuments"] == 2000


def test_sigterm_exits_zero(servers: ServerPool) -> None:
    server = servers.new()
    server.start()
    assert server.terminate(timeout=30) == 0, server.log_tail()
