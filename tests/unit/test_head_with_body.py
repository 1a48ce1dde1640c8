"""A response's head leaves with its body, in one write (sift/http/head_with_body.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from sift.http.head_with_body import HeadWithBody
from sift.http.keepalive import KeepAliveProtocol


class Transport(asyncio.Transport):
    """Records what each write gave the socket."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.sent.append(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        self.sent.append(b"".join(list_of_data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 7700)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def test_the_head_waits_for_the_body_then_both_go_at_once() -> None:
    transport = Transport()
    view = HeadWithBody(transport, asyncio.get_running_loop())
    view.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert transport.sent == []
    view.write(b"{}")
    view.write(b"more")  # only the head is held
    assert transport.sent == [b"HTTP/1.1 200 OK\r\n\r\n{}", b"more"]
    await asyncio.sleep(0)
    assert len(transport.sent) == 2


async def test_a_head_without_a_body_goes_at_the_end_of_the_turn_or_on_close() -> None:
    transport = Transport()
    view = HeadWithBody(transport, asyncio.get_running_loop())
    view.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    await asyncio.sleep(0)
    assert transport.sent == [b"HTTP/1.1 204 No Content\r\n\r\n"]

    transport = Transport()
    view = HeadWithBody(transport, asyncio.get_running_loop())
    view.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n")
    view.close()
    assert transport.sent == [b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n"]
    assert transport.closed and view.is_closing()  # the rest is the transport's own


async def test_the_servers_protocol_writes_a_response_once() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"2")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b"{}"})

    config = Config(app=app, http=KeepAliveProtocol, log_config=None, access_log=False)
    config.load()
    protocol = KeepAliveProtocol(config=config, server_state=ServerState(), app_state={})
    transport = Transport()
    protocol.connection_made(transport)
    for _ in range(2):  # keep-alive: the second request on the same connection
        protocol.data_received(b"GET /version HTTP/1.1\r\nHost: sift\r\n\r\n")
        while protocol.tasks:
            await asyncio.gather(*protocol.tasks)
    assert len(transport.sent) == 2
    for sent in transport.sent:
        assert sent.startswith(b"HTTP/1.1 200 OK\r\n") and sent.endswith(b"\r\n\r\n{}")
    protocol.connection_lost(None)
