"""The keep-alive timeout's look at the socket before closing it, and each answer's head
written with its body (sift/http/keepalive.py)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

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


class RecordingTransport(asyncio.Transport):
    """What reached the socket, one entry per write(2) uvloop would make."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:  # type: ignore[override]
        if data:  # uvloop writes nothing for no bytes
            self.calls.append(bytes(data))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        addresses = {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 7700)}
        return addresses.get(name, default)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


def served(protocol_class: type, app: Any, *requests: bytes) -> RecordingTransport:
    """Each request fed to the protocol in turn, each answered before the next."""

    async def run() -> RecordingTransport:
        config = Config(app, http=protocol_class, log_config=None, lifespan="off")
        config.load()
        state = ServerState()
        protocol = config.http_protocol_class(config=config, server_state=state, app_state={})
        transport = RecordingTransport()
        protocol.connection_made(transport)
        for raw in requests:
            protocol.data_received(raw)
            while state.tasks:
                await asyncio.gather(*state.tasks)
        protocol.connection_lost(None)
        return transport

    return asyncio.run(run())


def answering(status: int, headers: list[tuple[bytes, bytes]], *bodies: bytes) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for i, body in enumerate(bodies):
            more = i < len(bodies) - 1
            await send({"type": "http.response.body", "body": body, "more_body": more})

    return app


GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
JSON = [(b"content-type", b"application/json"), (b"content-length", b"11")]


def test_an_answer_with_a_body_is_one_write_of_uvicorns_bytes() -> None:
    app = answering(200, JSON, b'{"hits":[]}')
    ours = served(KeepAliveProtocol, app, GET, GET)
    uvicorns = served(HttpToolsProtocol, app, GET, GET)
    assert len(uvicorns.calls) == 4  # head, body, head, body
    assert ours.calls == [uvicorns.calls[0] + uvicorns.calls[1]] * 2
    assert ours.closed == uvicorns.closed


def test_a_head_with_no_body_bytes_goes_out_at_once() -> None:
    created = answering(201, [(b"content-length", b"0")], b"")
    head = b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"
    head_only = served(KeepAliveProtocol, answering(200, JSON, b""), head)
    ours, uvicorns = (served(p, created, GET).calls for p in (KeepAliveProtocol, HttpToolsProtocol))
    assert ours == uvicorns and len(ours) == 1
    assert len(head_only.calls) == 1 and head_only.calls[0].startswith(b"HTTP/1.1 200 OK\r\n")


def test_chunks_close_and_pipelining_keep_uvicorns_bytes() -> None:
    chunked = answering(200, [(b"content-type", b"text/plain")], b"ab", b"", b"cd")
    closing = answering(200, [(b"content-length", b"2"), (b"connection", b"close")], b"ok")
    for app, requests in ((chunked, (GET,)), (closing, (GET,)), (chunked, (GET + GET,))):
        ours = served(KeepAliveProtocol, app, *requests)
        uvicorns = served(HttpToolsProtocol, app, *requests)
        assert b"".join(ours.calls) == b"".join(uvicorns.calls)
        assert len(ours.calls) == len(uvicorns.calls) - requests[0].count(b"GET")
        assert ours.closed == uvicorns.closed
