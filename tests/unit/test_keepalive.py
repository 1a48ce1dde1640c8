"""The keep-alive timeout's look at the socket before closing it, and each answer's head
written with its body (sift/http/keepalive.py)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from typing import Any

from uvicorn.config import Config
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

    def writelines(self, parts: Iterable[bytes]) -> None:  # type: ignore[override]
        self.write(b"".join(parts))  # uvloop: one writev

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 7700)}.get(name, default)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


def served(app: Any, *requests: bytes) -> RecordingTransport:
    """Each request fed to sift serve's protocol in turn, each answered before the next."""

    async def run() -> RecordingTransport:
        config = Config(app, http=KeepAliveProtocol, log_config=None, lifespan="off")
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


async def one_body(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"5")]})  # fmt: skip
    await send({"type": "http.response.body", "body": b"hello"})


GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"


def test_an_answers_head_goes_out_with_its_body_in_one_write() -> None:
    calls = served(one_body, GET, GET).calls
    assert len(calls) == 2
    for call in calls:
        assert call.startswith(b"HTTP/1.1 200 OK\r\n") and call.endswith(b"\r\n\r\nhello")


def test_a_head_without_body_bytes_goes_out_when_the_answer_ends() -> None:
    calls = served(one_body, b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", GET).calls
    assert calls[0].startswith(b"HTTP/1.1 200 OK\r\n") and calls[0].endswith(b"\r\n\r\n")
    assert calls[1].endswith(b"\r\n\r\nhello")


def test_streamed_chunks_after_the_first_go_out_as_they_come() -> None:
    async def streamed(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"one", "more_body": True})
        await send({"type": "http.response.body", "body": b"two", "more_body": False})

    calls = served(streamed, GET).calls
    assert calls[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert calls[0].endswith(b"\r\n\r\n3\r\none\r\n")
    assert calls[1:] == [b"3\r\ntwo\r\n0\r\n\r\n"]


def test_100_continue_goes_out_before_the_answer() -> None:
    raw = (b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
           b"{}")  # fmt: skip
    calls = served(one_body, raw).calls
    assert calls[0] == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert calls[1].startswith(b"HTTP/1.1 200 OK\r\n") and calls[1].endswith(b"hello")


def test_a_failure_after_the_head_sends_the_head_and_closes() -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"5")]})  # fmt: skip
        raise RuntimeError("boom")

    transport = served(broken, GET)
    assert transport.closed and transport.calls[0].startswith(b"HTTP/1.1 200 OK\r\n")
