"""The keep-alive timeout's look at the socket before closing it (sift/http/keepalive.py)."""

from __future__ import annotations

import asyncio
import io
import logging
import socket

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from sift.http.access_log import AccessLogHandler, DeferredLogger
from sift.http.keepalive import KeepAliveProtocol, has_unread_bytes


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


async def _app(scope: dict, receive: object, send: object) -> None: ...


def test_the_protocol_logs_access_lines_through_the_deferred_stand_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under the server's logging set-up (one AccessLogHandler, not propagated), the
    access line's record is made on the access log's thread, not on the loop."""
    access = logging.getLogger("uvicorn.access")
    handler = AccessLogHandler(io.StringIO())
    monkeypatch.setattr(access, "handlers", [handler])
    monkeypatch.setattr(access, "filters", [])
    monkeypatch.setattr(access, "propagate", False)
    config = Config(_app, http=KeepAliveProtocol, log_config=None, lifespan="off")
    config.load()
    # A loop of its own: after an async test the main thread has none to get.
    loop = asyncio.new_event_loop()
    try:
        protocol = KeepAliveProtocol(config=config, server_state=ServerState(), app_state={},
                                     _loop=loop)
    finally:
        loop.close()
    assert isinstance(protocol.access_logger, DeferredLogger)
    assert protocol.access_logger.logger is access and protocol.access_log
    handler.close()
