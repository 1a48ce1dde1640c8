"""The paired benchmark's raw client reads answers framed by length and by chunks, back to
back on one connection, and sends each request whole."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from tests.unit.test_load_smoke import REPO_ROOT

ANSWERS = [
    b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\ncontent-type: application/json\r\n\r\n"
    b'{"hits":[]}',
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"4\r\n{\"a\"\r\n5\r\n:true\r\n1\r\n}\r\n0\r\n\r\n",
    b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}",
]


@pytest.fixture
def server() -> Iterator[tuple[str, list[bytes]]]:
    """Answers each request with the next of ANSWERS, a few bytes per write; keeps what
    it read."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            for answer in ANSWERS:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length")), 0)  # fmt: skip
                while len(body) < length:
                    body += conn.recv(65536)
                received.append(data)
                for start in range(0, len(answer), 7):  # framing must not rely on writes
                    conn.sendall(answer[start : start + 7])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", received
    thread.join(5)
    listener.close()


def test_answers_by_length_and_by_chunks_on_one_connection(
    server: tuple[str, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    from benchmarks.load.rawclient import RawClient

    base_url, received = server
    client = RawClient(base_url, {"Authorization": "Bearer k"})
    try:
        assert client.request("POST", "/indexes/bench/search", b'{"q":"a"}') == (
            200, b'{"hits":[]}')  # fmt: skip
        assert client.request("GET", "/collections/bench/documents/search?q=a") == (
            200, b'{"a":true}')  # fmt: skip
        assert client.request("GET", "/version") == (404, b"{}")
    finally:
        client.close()
    post = received[0]
    assert post.startswith(b"POST /indexes/bench/search HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Bearer k\r\n" in post
    assert b"\r\nContent-Length: 9\r\n" in post and post.endswith(b'\r\n\r\n{"q":"a"}')
    assert b"Content-Length" not in received[1]
