"""A request's plain body read straight from the ASGI ``receive`` (issue #17).

Starlette's ``Request.stream()`` is an async generator: for every body one is made, then
stepped three times (the body, the empty chunk it yields last, its end) by
``read_body``'s ``async for``. An API client's JSON body comes in one ``http.request``
message; awaiting ``receive`` for the messages takes one call each. The rules are
Starlette's stream's: a body read before is Starlette's to give (or to refuse, "Stream
consumed"), a disconnect raises ``ClientDisconnect``, other messages are skipped; and
the size limit is ``read_body``'s, checked as each chunk arrives. A body with a
``Content-Encoding`` goes through ``read_body``, which decodes it.
"""

from __future__ import annotations

from fastapi import Request
from starlette.requests import ClientDisconnect

from sift.http.encoding import payload_too_large, read_body
from sift.http.headers import header


async def whole_body(request: Request, limit: int | None = None) -> bytes:
    """The whole decoded body, as ``read_body`` answers it; `limit` caps its decoded size
    (413 beyond it)."""
    # Starlette's private state of the stream, which its own stream() keeps: a body read
    # (or being read) before is left to it.
    if (header(request.scope, b"content-encoding") is not None or request._stream_consumed
            or hasattr(request, "_body")):  # fmt: skip
        return await read_body(request, limit)
    receive = request.receive
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.request":
            chunk = message.get("body", b"")
            more = message.get("more_body", False)
            if not more:
                request._stream_consumed = True
            if chunk:
                size += len(chunk)
                if limit is not None and size > limit:
                    raise payload_too_large(limit)
                parts.append(chunk)
            if not more:
                break
        elif kind == "http.disconnect":
            request._is_disconnected = True
            raise ClientDisconnect()
    return parts[0] if len(parts) == 1 else b"".join(parts)
