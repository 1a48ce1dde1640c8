"""Answers written to the socket with the GIL released.

uvloop's ``transport.write`` calls ``write(2)`` at once when nothing is queued, holding
the GIL through the system call. On loopback that call also delivers the bytes and wakes
the reader (the kernel may switch to it right there), so each answer held the GIL for
the whole send: beside 2,000 click events a second, py-spy found the loop thread in that
one call in 27-46 % of its busy samples, while the worker's search thread waited for the
GIL (docs/benchmarks.md, "Click events", sixth pass).

:class:`ReleasingWrites` wraps a plain TCP transport and sends with ``os.write``, which
releases the GIL, whenever the transport has nothing queued: the bytes go out in the
same order, in the same single call. What the socket does not take at once (a full send
buffer), and every error, goes to the transport's own ``write``, which queues the rest
or closes the connection exactly as before. Everything else is the transport's.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any


class ReleasingWrites:
    """A transport whose ``write`` releases the GIL during the send (see the module)."""

    def __init__(self, transport: asyncio.Transport, fd: int) -> None:
        self._transport = transport
        self._fd = fd

    def write(self, data: bytes | bytearray | memoryview) -> None:
        transport = self._transport
        if data and not transport.get_write_buffer_size() and not transport.is_closing():
            try:
                sent = os.write(self._fd, data)
            except OSError:  # EAGAIN, or a real error: the transport meets it again
                sent = 0
            if sent == len(data):
                return
            data = memoryview(data)[sent:]
        transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def releasing_writes(transport: asyncio.Transport) -> asyncio.Transport:
    """``transport`` wrapped in :class:`ReleasingWrites` where that is safe: a plain
    (not TLS) socket transport. Others are returned as they are."""
    if transport.get_extra_info("sslcontext") is not None:
        return transport  # the bytes must go through TLS
    sock = transport.get_extra_info("socket")
    if sock is None:
        return transport
    return ReleasingWrites(transport, sock.fileno())  # type: ignore[return-value]
