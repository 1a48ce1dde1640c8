"""The per-address limit, before routing: a flood is refused before any work is done."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from sift.errors import RateLimited
from sift.http.responses import error_response
from sift.http.throttle.limits import Limits, client_address


class LimitAddresses:
    """Answers 429 (`too_many_requests`, `Retry-After`) to an address over its quota."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            limits: Limits = scope["app"].state.limits
            try:
                await limits.request(client_address(scope))
            except RateLimited as exc:
                await error_response(exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)
