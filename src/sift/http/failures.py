"""Every response carries a request id; an unexpected exception becomes one 500 answer
and one log line, and the connection stays usable.

Starlette's ServerErrorMiddleware re-raises an exception after its handler answered, and
uvicorn then closes the connection of a response it already sent: a client's next
request on that kept-alive connection (often a write) failed with a reset. This
middleware sits inside it and never re-raises. It logs one line per failure with the
request id; the traceback at most once per minute for each distinct failure (its type
and the line that raised it), so a client repeating a failing request cannot flood the
log.
"""

from __future__ import annotations

import logging
import secrets
import time
import traceback

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sift.errors import SiftError
from sift.inputs import shown

log = logging.getLogger("sift.http")

HEADER = b"x-request-id"
TRACEBACK_EVERY_S = 60.0
REMEMBERED = 1024  # distinct failures whose last traceback time is kept


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    return f"{type(exc).__name__}@{last.filename}:{last.lineno}" if last else type(exc).__name__


class RequestIds:
    """Plain ASGI: adds `X-Request-Id` to every response, answers unexpected failures."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._traced: dict[str, float] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [*message.get("headers", []), (HEADER, request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:  # the last line of defence: anything no handler answered
            self._log(scope, request_id, exc)
            if started:  # too late for a status: uvicorn closes this one connection
                return
            error = SiftError(
                f"Internal error (request id `{request_id}`): {type(exc).__name__}.", "internal"
            )
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": error.status,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": orjson.dumps(error.to_dict())})

    def _log(self, scope: Scope, request_id: str, exc: Exception) -> None:
        where = _where(exc)
        now = time.monotonic()
        last = self._traced.get(where)
        with_trace = last is None or now - last >= TRACEBACK_EVERY_S
        if with_trace:
            if len(self._traced) >= REMEMBERED:
                self._traced.clear()
            self._traced[where] = now
        route = getattr(scope.get("route"), "path", scope.get("path", ""))
        log.error(
            "unhandled error request_id=%s method=%s route=%s error=%s: %s",
            request_id,
            scope.get("method"),
            shown(route, 100),
            where,
            shown(str(exc), 200).replace("\n", " ").replace('"', "'"),
            exc_info=exc if with_trace else None,
        )
