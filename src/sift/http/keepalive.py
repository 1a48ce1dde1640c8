"""uvicorn's HTTP protocol, without resetting a request that arrived as keep-alive ended,
and with each answer's head and first body bytes written together.

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

uvicorn writes an answer's head (status line and headers) as the app sends its start
message, and the body as it sends the body: two `write(2)` calls for every answer with a
body (a search, `GET /version`), each of which, on loopback, delivers its bytes and wakes
the client there and then, which reads the head alone and waits again. :class:`HeadHeld`
holds the head, when body bytes will follow, until the body's first bytes and writes
both with one call (uvloop's ``writelines``: one ``writev``); the bytes and their order
are the same. `POST /events`' 201 has no body: its head is one write, as it was.
"""

from __future__ import annotations

import asyncio
import select
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol


def has_unread_bytes(fileno: int) -> bool:
    """Whether the socket has bytes (or an end of stream) waiting to be read."""
    poller = select.poll()
    poller.register(fileno, select.POLLIN)
    return bool(poller.poll(0))


class HeadHeld:
    """A connection's transport, as its requests' cycles write to it: an answer's head
    (the first write once its response has started) is held when body bytes will follow
    (a Content-Length above 0, or chunks) and goes out with the next write, or before
    the transport closes; any other write goes out at once (`100 Continue`, which a
    cycle writes before its response starts; the head of a `HEAD` answer or of one with
    no body, such as `POST /events`' 201). Answers on a connection are sequential
    (uvicorn starts a pipelined request's cycle when the previous answer is complete), so
    one held head at a time."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.cycle: Any = None  # the cycle answering now
        self.head_due = False  # the cycle's next write, once its response started, is its head
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self.transport.writelines((head, data))
            return
        if self.head_due and self.cycle.response_started:
            self.head_due = False
            cycle = self.cycle
            if (cycle.expected_content_length or cycle.chunked_encoding) and cycle.scope[
                "method"
            ] != "HEAD":
                self._head = data  # its body's bytes come next
                return
        self.transport.write(data)

    def close(self) -> None:
        if self._head is not None:  # the app failed between head and body
            head, self._head = self._head, None
            self.transport.write(head)
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def __getattr__(self, name: str) -> Any:  # anything else a cycle might ask
        return getattr(self.transport, name)


class KeepAliveProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's protocol (httptools or h11, as uvicorn picks) with a keep-alive timeout
    that never closes a connection a request is waiting on, and an answer's head written
    with its body."""

    _held: HeadHeld | None = None

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        held = self._held
        if held is None:
            held = self._held = HeadHeld(self.transport)
        held.cycle = cycle
        held.head_due = True
        cycle.transport = held
        super()._start_asgi_task(cycle, app)
