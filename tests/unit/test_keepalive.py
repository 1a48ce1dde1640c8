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


def test_the_protocol_defers_its_access_lines_under_the_server_logging() -> None:
    """`sift serve`'s logging gives uvicorn's access logger an AccessLogHandler: the
    protocol's access lines are then queued as parts (sift.http.access_log)."""
    import logging
    import logging.config

    from uvicorn.config import Config
    from uvicorn.server import ServerState

    from sift.http.access_log import AccessLogHandler, DeferredAccessLogger
    from sift.http.keepalive import KeepAliveProtocol
    from sift.server import logging_config

    access = logging.getLogger("uvicorn.access")
    saved = access.handlers[:], access.propagate, access.level
    config = Config(app=lambda scope, receive, send: None, http=KeepAliveProtocol,
                    log_config=None, lifespan="off")  # fmt: skip
    config.load()
    try:
        logging.config.dictConfig(logging_config("info"))
        def protocol_now() -> KeepAliveProtocol:
            return KeepAliveProtocol(config=config, server_state=ServerState(), app_state={})

        protocol = protocol_now()
        assert isinstance(protocol.access_logger, DeferredAccessLogger)
        assert protocol.access_logger.logger is access
        access.handlers[:] = [logging.NullHandler()]  # anything else: uvicorn's own path
        assert protocol_now().access_logger is access
    finally:
        for handler in access.handlers:
            if isinstance(handler, AccessLogHandler):
                handler.close()
        access.handlers[:], access.propagate = saved[0], saved[1]
        access.setLevel(saved[2])
