"""A request sent as its keep-alive connection times out is answered or cleanly refused,
never reset, even while the task worker holds the GIL for long stretches."""

from __future__ import annotations

import gzip
import random
import socket
import threading
import time

import httpx

from sift.demo import DATA_FILE
from tests.e2e.sift_process import ServerPool, SiftProcess

KEEP_ALIVE = 1.0
TRIES = 25
REQUEST = b"GET /health HTTP/1.1\r\nHost: sift\r\n\r\n"


def _answer(sock: socket.socket) -> bytes | None:
    """The head of one HTTP answer, or None at the end of the stream."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))  # fmt: skip
    while len(body) < length:
        body += sock.recv(65536)
    return head


def _keep_worker_busy(url: str, body: bytes, stop: threading.Event) -> None:
    """Keep two big document tasks waiting: indexing holds the GIL most of the time."""
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop.is_set():
            waiting = client.get("/tasks", params={"statuses": "enqueued,processing"}).json()
            if waiting["total"] < 2:
                client.post("/indexes/busy/documents?primaryKey=id", content=body,
                            headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
            stop.wait(0.5)


def deadline_outcomes(server: SiftProcess) -> dict[str, int]:
    """Requests sent at the keep-alive deadline of a started server (``KEEP_ALIVE``) while
    its task worker indexes: how many were answered, cleanly closed, or reset."""
    with gzip.open(DATA_FILE, "rb") as fh:
        body = fh.read()
    stop = threading.Event()
    busy = threading.Thread(target=_keep_worker_busy, args=(server.url, body, stop))
    busy.start()
    outcomes = {"answered": 0, "closed": 0, "reset": 0}
    try:
        time.sleep(2)  # the first batch is being indexed
        rng = random.Random(12)
        for _ in range(TRIES):
            with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
                sock.sendall(REQUEST)
                assert _answer(sock) is not None
                time.sleep(KEEP_ALIVE + rng.uniform(-0.01, 0.01))  # as the server times out
                try:
                    sock.sendall(REQUEST)
                    outcomes["answered" if _answer(sock) else "closed"] += 1
                except (ConnectionResetError, BrokenPipeError):
                    outcomes["reset"] += 1
    finally:
        stop.set()
        busy.join()
    return outcomes


def test_a_request_at_the_keep_alive_deadline_is_not_reset(servers: ServerPool) -> None:
    server = servers.new(master_key=None)
    server.start("--timeout-keep-alive", str(int(KEEP_ALIVE)))
    outcomes = deadline_outcomes(server)
    # A request that reaches the socket after the server closed it on time is reset by the
    # kernel whatever the server does (HTTP keep-alive's own race: clients retry); what
    # the fix removes is the reset of requests that arrived *before* a late timeout,
    # 11 of these 25 tries on the old code. Sending within 10 ms of the deadline meets
    # the unavoidable race now and then on a loaded machine, hence the margin.
    assert outcomes["reset"] <= 2, outcomes
    assert outcomes["answered"] > 0, outcomes
