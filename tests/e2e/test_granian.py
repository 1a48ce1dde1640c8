"""`sift serve --server granian`: workers, graceful shutdown, keep-alive and the access log
of a real granian server (sift/http/granian_server.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.sift_process import ServerPool, SiftProcess
from tests.e2e.test_keepalive import KEEP_ALIVE, deadline_outcomes
from tests.e2e.test_server import upload_during_sigterm, wait_succeeded

pytest.importorskip("granian")
pytestmark = pytest.mark.e2e


def children(pid: int) -> list[int]:
    """The worker processes granian's parent forked."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


@pytest.fixture
def granian(servers: ServerPool) -> Iterator[list[int]]:
    """Worker pids to kill if a test fails: killing the parent alone would leave them."""
    workers: list[int] = []
    yield workers
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def start(server: SiftProcess, workers: list[int], *extra: str) -> None:
    server.start("--server", "granian", *extra)
    workers.extend(children(server.pid))


def index_documents(server: SiftProcess, count: int) -> None:
    docs = [{"id": i, "title": f"document {i}"} for i in range(count)]
    with server.client() as client:
        wait_succeeded(client, client.post("/indexes/docs/documents", json=docs).json()["taskUid"])


def test_two_workers_answer_and_log_each_request(servers: ServerPool, granian: list[int]) -> None:
    server = servers.new()
    start(server, granian, "--workers", "2", "--log-level", "info")
    assert len(granian) == 2
    index_documents(server, 20)  # one worker indexes; the other sees it from the database
    full = set()  # the workers whose answer had every document
    deadline = time.monotonic() + 30
    while len(full) < 2:
        assert time.monotonic() < deadline, full
        # A connection of its own each time: the kernel spreads them over the workers.
        answer = httpx.get(f"{server.url}/indexes/docs/search?q=document", headers=server.headers)
        # The other worker learns of the new index within about half a second.
        assert answer.status_code in (200, 404), answer.text
        if answer.status_code == 200 and answer.json()["estimatedTotalHits"] == 20:
            full.add(answer.headers["x-request-id"][:8])  # drawn once per worker process
    # The same errors as under uvicorn: an unknown index, an unknown route.
    with server.client() as client:
        assert client.get("/indexes/absent/search").json()["code"] == "index_not_found"
        assert client.get("/no/such/route").status_code == 404
    time.sleep(0.2)  # the access-log thread writes every 50 ms
    log = server.log_tail(100_000)
    assert '"logger":"granian.access"' in log
    assert 'GET /indexes/docs/search HTTP/1.1\\" 200' in log
    assert server.terminate() == 0, server.log_tail()
    assert not any(Path(f"/proc/{pid}").exists() for pid in granian)


def test_sigterm_lets_the_in_flight_request_finish_and_writes_the_images(
    servers: ServerPool, granian: list[int]
) -> None:
    server = servers.new()
    start(server, granian, "--workers", "2")
    index_documents(server, 50)
    docs = [{"id": i, "title": f"document {i}"} for i in range(50, 2050)]
    response, status = upload_during_sigterm(server, docs)
    assert status == 0, server.log_tail()
    assert response.status_code == 202, response.text
    # The lifespan shutdown ran: the index's image is on disk.
    assert list((server.data_dir / "images").glob("*.image")), server.log_tail()

    # The acknowledged task survived the shutdown and completes after a restart.
    start(server, granian)
    uid = response.json()["taskUid"]
    with server.client() as client:
        wait_succeeded(client, uid)
        assert client.get("/indexes/docs/stats").json()["numberOfDocuments"] == 2050
    server.proc.send_signal(signal.SIGINT)  # Ctrl-C: as graceful as SIGTERM
    assert server.proc.wait(30) == 0, server.log_tail()


def test_an_idle_keep_alive_connection_is_closed_after_the_timeout(
    servers: ServerPool, granian: list[int]
) -> None:
    server = servers.new()
    start(server, granian, "--timeout-keep-alive", "1")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: sift\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        began = time.monotonic()
        assert sock.recv(100) == b""  # the server closed it
        assert 0.5 < time.monotonic() - began < 5
    assert server.terminate() == 0


def test_sigterm_while_the_workers_start_stops_them(
    servers: ServerPool, granian: list[int]
) -> None:
    """granian's parent binds the port first; its workers then load the app (seconds). A
    worker loses a SIGTERM that comes before its HTTP server runs (granian 2.8.9), and
    without the parent's repeated signal it waited for the kill timeout (graceful timeout
    + 120 s): a deploy stopping a server still starting hung, and so did a test."""
    server = servers.new()
    server.launch("--server", "granian", "--workers", "2", "--log-level", "info")
    deadline = time.monotonic() + 30
    while "Spawning worker-2" not in server.log_tail():
        assert time.monotonic() < deadline and server.alive(), server.log_tail()
        time.sleep(0.02)
    granian.extend(children(server.pid))
    assert "Sift is ready" not in server.log_tail()  # both are still starting
    began = time.monotonic()
    assert server.terminate(timeout=40) == 0, server.log_tail()
    assert time.monotonic() - began < 40
    assert not any(Path(f"/proc/{pid}").exists() for pid in granian)


def test_killing_the_parent_kills_its_workers(servers: ServerPool, granian: list[int]) -> None:
    server = servers.new()
    start(server, granian, "--workers", "2")
    assert len(granian) == 2
    server.kill()  # SIGKILL to granian's parent, as `kill -9` or the OOM killer
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in granian):
        assert time.monotonic() < deadline, "orphaned workers still running"
        time.sleep(0.05)
    # ... and the port is free for the next start.
    start(server, granian)
    assert server.terminate() == 0


def test_a_request_at_the_keep_alive_deadline_is_not_reset(
    servers: ServerPool, granian: list[int]
) -> None:
    """tests/e2e/test_keepalive.py's check under granian, whose timeout is hyper's, in
    Rust: the GIL that indexing holds cannot make it late."""
    server = servers.new(master_key=None)
    start(server, granian, "--timeout-keep-alive", str(int(KEEP_ALIVE)))
    outcomes = deadline_outcomes(server)
    # The same bound as under uvicorn: a request reaching a socket closed on time is
    # reset by the kernel whatever the server does (keep-alive's own race).
    assert outcomes["reset"] <= 2, outcomes
    assert outcomes["answered"] > 0, outcomes
    assert server.terminate() == 0
