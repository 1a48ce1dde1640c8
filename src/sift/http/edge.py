"""What every HTTP answer gets, in one ASGI layer: a request id, the security headers,
the request metrics, and an answer for a failure no handler answered.

These were three middlewares, each wrapping ASGI ``send`` in a closure of its own and
copying the response's start message and headers; one wrapper does it all at once
(issue #18: the middleware stack was about half of what a `GET /version` cost the app).
The order of the headers is kept: the response's own, the security headers it did not
set, then `X-Request-Id`.
"""

from __future__ import annotations

import functools
import itertools
import secrets
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sift.http import failures, metrics
from sift.http.cors import VARY_ORIGIN

if TYPE_CHECKING:
    from sift.http.cors import CORS

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
SECURITY = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
SECURITY_NAMES = frozenset(name for name, _ in SECURITY)


class RequestIds:
    """16 hex digits: a random prefix drawn once per app (so per worker process), then a
    counter. Unique per process and across workers, for correlating a client's report
    with the log; cheaper than drawing 8 random bytes for every request."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(4)
        self._count = itertools.count(secrets.randbelow(1 << 32))

    def next(self) -> str:
        return f"{self._prefix}{next(self._count) & 0xFFFFFFFF:08x}"


class RequestEdge:
    """Plain ASGI, outermost but for CORS: ``app`` is everything inside."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.ids = RequestIds()
        self.failures = failures.FailureLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.serve(scope, receive, send, self.app)

    async def serve(
        self, scope: Scope, receive: Receive, send: Send, app: ASGIApp, cors: CORS | None = None,
        *, answers: bool = False,
    ) -> None:
        """Serves an HTTP request with ``app``. ``cors``: the app's CORS layer, when the
        caller went around it for a request without an ``Origin`` (the hot lane,
        sift/http/hot_lane.py); what that layer adds to such an answer is then added in
        this layer's send wrapper, not in a wrapper of its own.

        ``answers``: ``app`` returns its answer, a Starlette Response, instead of sending
        it (the hot lane's endpoints). A plain one (its whole body at hand, no background
        task) is sent here as its two messages, this layer's headers added as the wrapper
        adds them, without Starlette's ``Response.__call__`` or the wrapper between it and
        uvicorn's ``send`` (~3 µs of a search's answer; issue #18); any other is sent
        through the wrapper."""
        request_id = self.ids.next()
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (failures.HEADER, request_id.encode())
        status = 0  # none sent yet
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers, merge = with_edge_headers(message.get("headers", ()), id_header, cors)
                message = {**message, "headers": headers}
                if merge:  # CORS merges its Vary into the answer's
                    await cors.send_without_origin(message, send, scope)  # type: ignore[union-attr]
                    return
            await send(message)

        try:
            if not answers:
                await app(scope, receive, send_with_headers)
                return
            response: Response = await app(scope, receive, send)  # type: ignore[func-returns-value]
            if type(response).__call__ is not Response.__call__ or response.background is not None:
                await response(scope, receive, send_with_headers)  # streamed, or more to run
                return
            status = response.status_code
            headers, merge = with_edge_headers(response.raw_headers, id_header, cors)
            start = {"type": "http.response.start", "status": status, "headers": headers}
            if merge:
                await cors.send_without_origin(start, send, scope)  # type: ignore[union-attr]
            else:
                await send(start)
            await send({"type": "http.response.body", "body": response.body})
        except Exception as exc:  # the last line of defence: anything no handler answered
            self.failures.log(scope, request_id, exc)
            if not status:  # else too late for a status: uvicorn closes this one connection
                if cors is not None:
                    send = functools.partial(cors.send_without_origin, send=send, scope=scope)
                await failures.answer(send, request_id, exc)  # counted as the 500 it is
        finally:
            metrics.observe(scope, status or 500, time.perf_counter() - started)


def with_edge_headers(
    own: Iterable[tuple[bytes, bytes]], id_header: tuple[bytes, bytes], cors: CORS | None
) -> tuple[list[tuple[bytes, bytes]], bool]:
    """An answer's headers: its ``own``, the security headers it did not set, the request
    id, then (``cors``: the CORS layer was gone around) ``Vary: Origin``; and whether
    CORS must still merge its Vary into one of ``own`` (then not added here)."""
    present = {name.lower() for name, _ in own}
    if present.isdisjoint(SECURITY_NAMES):  # the usual answer: no generator
        headers = [*own, *SECURITY, id_header]
    else:
        headers = [*own, *(h for h in SECURITY if h[0] not in present), id_header]
    if cors is None:
        return headers, False
    if b"vary" in present:
        return headers, True
    headers.append(VARY_ORIGIN)  # as CORS adds it, in this one layer
    return headers, False
