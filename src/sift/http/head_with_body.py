"""A response's head and body in one write to the socket, not two.

uvicorn writes an HTTP response's head when the app sends ``http.response.start`` and its
body when the app sends ``http.response.body``: two ``send`` calls on the socket, two TCP
segments, and a client that reads the head alone, then wakes again for the body. A
search's answer is a few kilobytes, so the second wake-up is most of what its delivery
costs: py-spy on a worker at 64 connections of the typeahead mix put 22 % of its
samples in the head's write (a loopback send runs the receiver's side of TCP and wakes
the client; on the 2-core machine the woken client then takes the core) and 2 % in the
body's, which found the client awake.

:class:`HeadWithBody` is the transport as one response sees it: it holds the first write
(the head) until the next (the body's first bytes), then writes both at once; a head
without a body (a HEAD request, a 204, a stream whose first chunk is not ready) goes out
at the end of the event loop's turn, or when the response closes the connection, so no
head waits longer than the code that wrote it runs. Only the head is held: every later
write goes to the socket at once, so uvicorn's flow control sees a large body as before.
"""

from __future__ import annotations

import asyncio
from typing import Any


class HeadWithBody:
    """A response's view of its connection's transport (``write``, ``close``; the rest is
    the transport's own)."""

    __slots__ = ("_first", "_head", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None
        self._first = True

    def write(self, data: bytes) -> None:
        if self._first:
            self._first = False
            self._head = data
            self._loop.call_soon(self.flush)
            return
        head = self._head
        if head is None:
            self._transport.write(data)
            return
        self._head = None
        self._transport.writelines((head, data))  # uvloop: one writev, no copy of the body

    def flush(self) -> None:
        """Writes the head if it still waits (its body never came this turn)."""
        head = self._head
        if head is not None:
            self._head = None
            if not self._transport.is_closing():
                self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
