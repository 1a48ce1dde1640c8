"""The keep-alive timeout's look at the socket before closing it (sift/http/keepalive.py)."""

from __future__ import annotations

import asyncio
import socket

from uvicorn.config import Config
from uvicorn.server import ServerState

from sift.http import keepalive
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


def test_the_protocol_shows_the_servers_requests_in_progress() -> None:
    """Search placement reads them: the server's own set of request tasks."""
    state = ServerState()
    loop = asyncio.new_event_loop()
    try:
        config = Config(app=lambda scope, receive, send: None, http=keepalive.KeepAliveProtocol)
        config.load()
        keepalive.KeepAliveProtocol(config=config, server_state=state, app_state={}, _loop=loop)
        assert keepalive.requests_in_progress() is state.tasks
    finally:
        loop.close()
        keepalive._requests = None
