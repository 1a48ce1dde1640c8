"""uvicorn's HTTP protocol, without resetting a request that arrived as keep-alive ended.

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
"""

from __future__ import annotations

import select

from uvicorn.protocols.http.auto import AutoHTTPProtocol


def has_unread_bytes(fileno: int) -> bool:
    """Whether the socket has bytes (or an end of stream) waiting to be read."""
    poller = select.poll()
    poller.register(fileno, select.POLLIN)
    return bool(poller.poll(0))


class KeepAliveProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's protocol (httptools or h11, as uvicorn picks) with a keep-alive timeout
    that never closes a connection a request is waiting on."""

    def timeout_keep_alive_handler(self) -> None:
        sock = self.transport.get_extra_info("socket")
        if sock is not None and not self.transport.is_closing() and has_unread_bytes(
            sock.fileno()
        ):
            return  # data_received() runs next and serves it; its answer re-arms the timer
        super().timeout_keep_alive_handler()
