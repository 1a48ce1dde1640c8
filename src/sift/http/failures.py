"""An unexpected exception becomes one 500 answer and one log line, and the connection
stays usable (the request id each answer carries is drawn in http/edge.py).

Starlette's ServerErrorMiddleware re-raises an exception after its handler answered, and
uvicorn then closes the connection of a response it already sent: a client's next
request on that kept-alive connection (often a write) failed with a reset. The layer
that uses these (edge.RequestEdge) sits inside it and never re-raises. It logs one line
per failure with the request id; the traceback at most once per minute for each distinct
failure (its type and the line that raised it), so a client repeating a failing request
cannot flood the log.
"""

from __future__ import annotations

import logging
import time
import traceback

import orjson
from starlette.types import Scope, Send

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


class FailureLog:
    """One line per failure; its traceback at most once per minute per distinct failure."""

    def __init__(self) -> None:
        self._traced: dict[str, float] = {}

    def log(self, scope: Scope, request_id: str, exc: Exception) -> None:
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


async def answer(send: Send, request_id: str, exc: Exception) -> None:
    """The 500 for a failure no handler answered, quoting the request id."""
    error = SiftError(
        f"Internal error (request id `{request_id}`): {type(exc).__name__}.", "internal"
    )
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [(b"content-type", b"application/json"), (HEADER, request_id.encode())],
        }
    )
    await send({"type": "http.response.body", "body": orjson.dumps(error.to_dict())})
