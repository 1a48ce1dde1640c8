"""Answers sent with the GIL released (sift/http/socket_write.py), on uvloop's transports
as `sift serve` runs them."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import threading
from typing import Any

import uvloop

from sift.http.keepalive import KeepAliveProtocol
from sift.http.socket_write import ReleasingWrites, releasing_writes


class Collect(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport


def _serve(check: Any) -> None:
    """``check(transport, peer)`` in a coroutine, with ``transport`` uvloop's for one end
    of a socket pair and ``peer`` the other end (blocking)."""

    async def main() -> None:
        ours, peer = socket.socketpair()
        with peer:
            transport, _ = await asyncio.get_running_loop().connect_accepted_socket(Collect, ours)
            try:
                await check(transport, peer)
            finally:
                transport.close()

    uvloop.run(main())


def _receive(peer: socket.socket, size: int) -> bytes:
    got = bytearray()
    while len(got) < size:
        chunk = peer.recv(1 << 16)
        if not chunk:
            break
        got.extend(chunk)
    return bytes(got)


def test_a_plain_transport_sends_through_the_socket_in_one_call(monkeypatch) -> None:
    calls = []
    real_write = os.write

    def spy(fd: int, data: Any) -> int:
        calls.append(bytes(data))
        return real_write(fd, data)

    async def check(transport: asyncio.Transport, peer: socket.socket) -> None:
        wrapped = releasing_writes(transport)
        assert isinstance(wrapped, ReleasingWrites)
        monkeypatch.setattr(os, "write", spy)
        answer = b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n"
        wrapped.write(answer)
        assert _receive(peer, len(answer)) == answer
        assert calls == [answer]
        assert wrapped.get_write_buffer_size() == 0  # the transport's own, delegated

    _serve(check)


def test_what_the_socket_does_not_take_is_queued_by_the_transport_in_order() -> None:
    payload = bytes(range(256)) * (1 << 14)  # 4 MiB: more than a socket's send buffer

    async def check(transport: asyncio.Transport, peer: socket.socket) -> None:
        wrapped = releasing_writes(transport)
        wrapped.write(payload)
        assert transport.get_write_buffer_size() > 0  # the rest waits in the transport
        wrapped.write(b"tail")  # behind the queued rest, never before it
        got: list[bytes] = []
        reader = threading.Thread(target=lambda: got.append(_receive(peer, len(payload) + 4)))
        reader.start()
        while transport.get_write_buffer_size():
            await asyncio.sleep(0.01)
        await asyncio.to_thread(reader.join)
        assert got == [payload + b"tail"]

    _serve(check)


def test_a_closed_peer_is_the_transports_error_as_before() -> None:
    async def check(transport: asyncio.Transport, peer: socket.socket) -> None:
        wrapped = releasing_writes(transport)
        peer.close()
        wrapped.write(b"x" * 1000)  # EPIPE: handed to the transport, which closes
        await asyncio.sleep(0.01)
        assert transport.is_closing()

    _serve(check)


def test_tls_and_socketless_transports_are_left_as_they_are() -> None:
    class Fake:
        def __init__(self, **extra: Any) -> None:
            self.extra = extra

        def get_extra_info(self, name: str) -> Any:
            return self.extra.get(name)

    tls = Fake(sslcontext=ssl.create_default_context(), socket=object())
    assert releasing_writes(tls) is tls  # type: ignore[arg-type]
    bare = Fake()
    assert releasing_writes(bare) is bare  # type: ignore[arg-type]


def test_the_server_protocol_answers_through_the_wrapper() -> None:
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def main() -> None:
        config = Config(app, http=KeepAliveProtocol, access_log=False, log_config=None)
        config.load()
        protocol = KeepAliveProtocol(config=config, server_state=ServerState(), app_state={})
        ours, peer = socket.socketpair()
        with peer:
            await asyncio.get_running_loop().connect_accepted_socket(lambda: protocol, ours)
            assert isinstance(protocol.transport, ReleasingWrites)
            peer.sendall(b"POST /events HTTP/1.1\r\nHost: sift\r\nContent-Length: 0\r\n\r\n")
            answer = await asyncio.to_thread(peer.recv, 1000)
            assert answer.startswith(b"HTTP/1.1 201 Created\r\n")
            protocol.transport.close()

    uvloop.run(main())
