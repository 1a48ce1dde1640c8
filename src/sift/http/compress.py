"""Gzip for the website's pages and assets, never for the API."""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class CompressPages:
    """Gzip the website (search page, dashboard, assets) only: API responses stay as they
    are, so API clients and benchmarks do not pay for compression they did not ask for."""

    PREFIXES = ("/static/", "/admin", "/search/")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=500, compresslevel=6)

    @classmethod
    def applies(cls, scope: Scope) -> bool:
        """Whether an answer to this request may be compressed."""
        path = scope.get("path", "") if scope["type"] == "http" else ""
        return path == "/" or path.startswith(cls.PREFIXES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.applies(scope):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
