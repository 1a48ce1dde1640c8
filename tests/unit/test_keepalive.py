"""The keep-alive timeout's look at the socket before closing it (sift/http/keepalive.py)."""

from __future__ import annotations

import socket

from sift.http.keepalive import has_unread_bytes


def test_unread_bytes_and_end_of_stream_count_as_waiting() -> None:
    server, client = socket.socketpair()
    with server, client:
        assert not has_unread_bytes(server.fileno())
        client.sendall(b"GET / HTTP/1.1\r\n")
        assert has_unread_bytes(server.fileno())
        server.recv(100)
        assert not has_unread_bytes(server.fileno())
        client.close()  # the end of the stream: the loop reads it and closes the connection
        assert has_unread_bytes(server.fileno())
