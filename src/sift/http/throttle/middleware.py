"""The per-address limit, before routing: a flood is refused before any work is done."""

from __future__ import annotations

from starlette.responses import Response
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
            refused = await refusal(scope)
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def refusal(scope: Scope) -> Response | None:
    """Counts an HTTP request against its address's quota: the 429 to answer once that
    is spent, else None."""
    limits: Limits = scope["app"].state.limits
    if limits.per_address is None:  # off (the default): no coroutine to run per request
        return None
    try:
        await limits.request(client_address(scope))
    except RateLimited as exc:
        return error_response(exc)
    return None
