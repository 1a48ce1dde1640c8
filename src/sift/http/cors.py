"""Cross-origin calls from browsers, as Meilisearch answers them.

By default any origin may call (`Access-Control-Allow-Origin: *`), a preflight `OPTIONS`
is answered for every route, with any method and any request header allowed (the SDKs
send `Authorization`, `Content-Type`, `X-Meilisearch-Client` and more), cached for a day.
`cors_origins` narrows the origins; the rest stays. No credentials: API calls carry their
key in `Authorization`, and the dashboard's cookie is never sent cross-origin.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

from sift.config import Config, split_list

# Response headers a page's script may read besides the safelisted ones: how long to wait
# after a 429, and the id to quote when reporting a failure (http/failures.py).
EXPOSED = ["Retry-After", "X-Request-Id"]
VARY_ORIGIN = (b"vary", b"Origin")


def cors_options(config: Config) -> dict[str, Any]:
    """Keyword arguments of Starlette's CORSMiddleware (and :class:`CORS`) for these
    settings."""
    origins = split_list(config.cors_origins)
    return {
        "allow_origins": ["*"] if "*" in origins else origins,
        "allow_methods": ["*"],
        "allow_headers": ["*"],
        "expose_headers": EXPOSED,
        "max_age": 86400,
    }


class CORS(CORSMiddleware):
    """Starlette's CORS middleware, with a shortcut for a request without an ``Origin``
    header (a server's, an SDK's outside a browser, a benchmark's): Starlette parses the
    request's headers and, on the answer, the answer's, only to add ``Vary: Origin``. Here
    that header is appended as Starlette would append it; an answer that already varies
    goes through Starlette's own merge."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == b"origin" for name, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def vary_on_origin(message: Message) -> None:
            await self.send_without_origin(message, send, scope)

        await self.app(scope, receive, vary_on_origin)

    async def send_without_origin(self, message: Message, send: Send, scope: Scope) -> None:
        """Sends ``message`` of the answer to a request without an ``Origin``: its start
        with ``Vary: Origin``."""
        if message["type"] == "http.response.start":
            headers = message.get("headers", ())
            if any(name.lower() == b"vary" for name, _ in headers):
                await self.send(message, send, Headers(scope=scope))
                return
            message["headers"] = [*headers, VARY_ORIGIN]
        await send(message)
