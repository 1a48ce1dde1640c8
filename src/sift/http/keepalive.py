"""uvicorn's HTTP protocol, without resetting a request that arrived as keep-alive ended,
and with an answer's head written with its body.

uvicorn closes a connection that stayed idle for ``timeout_keep_alive`` seconds from a
timer on the event loop. When the loop runs late because another thread holds the GIL
(the task worker indexing or embedding a batch), a client's next request can reach the
socket between the moment the timer became due and the moment it runs; closing a socket
with unread bytes makes the kernel answer with a TCP reset, so the client reading its
answer gets `Connection reset by peer`, and nothing is logged (measured: 12 of 40
requests sent at the keep-alive deadline while a batch was indexed; none while idle).

:class:`KeepAliveProtocol` looks before it closes: bytes waiting on the socket are a
request (or the client's own close) that the loop will read next, so the connection
stays open and the request is answered; only an idle socket is closed.

uvicorn's httptools cycle writes an answer's head (status line and headers) when the app
sends its start message and the body when it sends the body: two `write(2)` calls. On
loopback the head's write wakes the client, which the kernel often runs on the server's
core there and then, so the body waits while the client parses the head (issue #18:
56-75 % of single-client searches). :class:`OneWriteCycle` holds the head of an answer
whose body has bytes and writes it with the body's first bytes, in one write; the bytes
and their order are uvicorn's. A head with no body bytes to follow (`POST /events`' 201,
`Content-Length: 0`, a `HEAD`) goes out at once, as before.
"""

from __future__ import annotations

import select
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle


def has_unread_bytes(fileno: int) -> bool:
    """Whether the socket has bytes (or an end of stream) waiting to be read."""
    poller = select.poll()
    poller.register(fileno, select.POLLIN)
    return bool(poller.poll(0))


class _HeadCatcher:
    """Stands in for the transport while uvicorn writes a head: keeps the bytes."""

    __slots__ = ("head",)

    def __init__(self) -> None:
        self.head = b""

    def write(self, data: bytes) -> None:
        self.head = data


class _HeadFirst:
    """Stands in for the transport while uvicorn writes a body's first bytes: writes the
    held head and them with one call."""

    __slots__ = ("head", "transport")

    def __init__(self, transport: Any, head: bytes) -> None:
        self.transport = transport
        self.head = head

    def write(self, data: bytes) -> None:
        self.transport.write(self.head + data)

    def close(self) -> None:  # an answer on a connection that does not stay open
        self.transport.close()


class OneWriteCycle(RequestResponseCycle):  # type: ignore[misc]
    """uvicorn's httptools cycle, its answer's head held until the body's first bytes."""

    _held: bytes | None = None

    async def send(self, message: Any) -> None:
        held = self._held
        if held is not None:  # the body's first message: uvicorn writes the head with it
            self._held = None
            transport = self.transport
            self.transport = _HeadFirst(transport, held)
            try:
                await super().send(message)
            finally:
                self.transport = transport
        elif self.response_started or self.scope["method"] == "HEAD":
            await super().send(message)
        else:  # the start: uvicorn builds the head; it goes out now only if no body follows
            transport = self.transport
            catcher = self.transport = _HeadCatcher()
            try:
                await super().send(message)
            finally:
                self.transport = transport
            if self.expected_content_length or self.chunked_encoding:
                self._held = catcher.head
            elif catcher.head:
                transport.write(catcher.head)


class KeepAliveProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's protocol (httptools or h11, as uvicorn picks) with a keep-alive timeout
    that never closes a connection a request is waiting on and, with httptools, each
    answer's head written with its body."""

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        if type(cycle) is RequestResponseCycle:
            cycle.__class__ = OneWriteCycle
        super()._start_asgi_task(cycle, app)

    def timeout_keep_alive_handler(self) -> None:
        sock = self.transport.get_extra_info("socket")
        if sock is not None and not self.transport.is_closing() and has_unread_bytes(
            sock.fileno()
        ):
            return  # data_received() runs next and serves it; its answer re-arms the timer
        super().timeout_keep_alive_handler()
