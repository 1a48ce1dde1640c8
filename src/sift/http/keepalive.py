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
holds the head until the body's first bytes (or the end of the answer) and writes both
with one call (uvloop's ``writelines``: one ``writev``); the bytes and their order are
the same. `POST /events`' 201 has no body: its head was already one write.
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
    """A connection's transport, as its requests' cycles write to it: the first write of
    an answer once its response has started (uvicorn's head) is held and goes out with the
    next write, at the answer's end, or before the transport closes. What a cycle writes
    before its response starts (`100 Continue`) goes out at once. Answers on a connection
    are sequential (uvicorn starts a pipelined request's cycle when the previous answer
    is complete), so one held head at a time."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.cycle: Any = None  # the cycle answering now
        self._head_due = False  # the cycle's next write, once its response started, is its head
        self._head: bytes | None = None

    def answering(self, cycle: Any) -> None:
        self.flush()
        self.cycle = cycle
        self._head_due = True

    def write(self, data: bytes) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self.transport.writelines((head, data))
        elif self._head_due and self.cycle.response_started:
            self._head_due = False
            self._head = data
        else:
            self.transport.write(data)

    def flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self.transport.write(head)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info...
        return getattr(self.transport, name)


class KeepAliveProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's protocol (httptools or h11, as uvicorn picks) with a keep-alive timeout
    that never closes a connection a request is waiting on, and an answer's head written
    with its body."""

    _held: HeadHeld | None = None

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        if self._held is None or self._held.transport is not self.transport:
            self._held = HeadHeld(self.transport)
        self._held.answering(cycle)
        cycle.transport = self._held
        super()._start_asgi_task(cycle, app)

    def on_response_complete(self) -> None:
        if self._held is not None:
            self._held.flush()  # a HEAD's, or an answer that wrote no body bytes
        super().on_response_complete()

    def timeout_keep_alive_handler(self) -> None:
        sock = self.transport.get_extra_info("socket")
        if sock is not None and not self.transport.is_closing() and has_unread_bytes(
            sock.fileno()
        ):
            return  # data_received() runs next and serves it; its answer re-arms the timer
        super().timeout_keep_alive_handler()
