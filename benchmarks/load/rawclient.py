"""The smallest HTTP/1.1 client the single-client benchmarks can use: one kept-alive socket,
each request written whole with one ``sendall``, the answer read with ``recv`` until its
``Content-Length`` or its last chunk.

httpx, the benchmarks' usual client, spends ~0.6 ms of its own CPU on a `GET /version`
and ~1 ms on a search on the 2-core VM (``time.thread_time`` around the call), and
writes a POST's head and body apart: more than Sift's or Typesense's own time for most
requests. Timed with this client instead, a round trip is mostly the server's and the
kernel's, which is what a comparison of servers needs to see
(``python -m benchmarks.load.paired --client raw``). It speaks only what the servers
under test answer: a status line, headers, and a body by length or chunks.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from urllib.parse import urlsplit


class RawClient:
    """One connection to ``base_url``; ``headers`` go with every request."""

    def __init__(self, base_url: str, headers: Mapping[str, str], timeout: float = 30) -> None:
        url = urlsplit(base_url)
        assert url.hostname is not None and url.port is not None, base_url
        self._sock = socket.create_connection((url.hostname, url.port), timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._fixed = f"Host: {url.hostname}:{url.port}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        self._buffer = b""

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """The answer's status and body (chunks joined)."""
        head = f"{method} {path} HTTP/1.1\r\n{self._fixed}"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self._sock.sendall(head.encode() + b"\r\n" + body)
        status, fields = self._head()
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            return status, self._chunks()
        return status, self._take(int(fields.get(b"content-length", b"0")))

    def close(self) -> None:
        self._sock.close()

    def _head(self) -> tuple[int, dict[bytes, bytes]]:
        head = self._until(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip()
        return int(lines[0].split()[1]), fields

    def _chunks(self) -> bytes:
        parts = []
        while size := int(self._until(b"\r\n").split(b";")[0], 16):
            parts.append(self._take(size))
            self._take(2)  # the chunk's CRLF
        while self._until(b"\r\n"):  # trailers, then the empty line
            pass
        return b"".join(parts)

    def _until(self, mark: bytes) -> bytes:
        """The bytes before ``mark`` (consumed with it)."""
        while (end := self._buffer.find(mark)) < 0:
            self._fill()
        found, self._buffer = self._buffer[:end], self._buffer[end + len(mark):]
        return found

    def _take(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._fill()
        found, self._buffer = self._buffer[:count], self._buffer[count:]
        return found

    def _fill(self) -> None:
        data = self._sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection mid-answer")
        self._buffer += data
