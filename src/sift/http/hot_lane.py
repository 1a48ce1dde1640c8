"""The app's six middleware layers in one call, for a hot request that needs no more of
them (issue #17).

A hot request (sift/http/hot_routes.py) went through each of the app's middleware
layers (sift/app.py: CORS, RequestEdge, ProxyHeaders, LimitAddresses, CompressPages,
HotEndpoints), each a coroutine of its own and two of them wrapping ``send`` again. For
an API client's request most of them do nothing: without an ``Origin`` header CORS only
adds ``Vary: Origin`` to the answer; without ``X-Forwarded-*`` headers the proxy layer
changes nothing; the hot paths are never compressed. For such a request :class:`HotLane`
calls what the layers would, in their order, with the same code: RequestEdge's ``serve``
(request id, security headers, metrics, the answer to a failure no handler answered),
given the CORS layer so that ``Vary: Origin`` is added in the same send wrapper;
LimitAddresses' ``refusal`` (the per-address limit); HotEndpoints' endpoint call
(``hot_answer``), whose response RequestEdge sends itself. Any other hot request goes
through the six layers as before.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from sift.http.compress import CompressPages
from sift.http.cors import CORS
from sift.http.edge import RequestEdge
from sift.http.hot_routes import HotEndpoints, hot_answer
from sift.http.throttle.middleware import LimitAddresses, refusal

# The app's middleware, outermost first, that the lane stands for: a layer added to (or
# moved in) the stack must be added here too, or the app refuses to build.
LAYERS = (CORS, RequestEdge, ProxyHeadersMiddleware, LimitAddresses, CompressPages,
          HotEndpoints)  # fmt: skip
# Request headers that the layers act on (CORS: Origin; the proxy layer: X-Forwarded-*).
NEEDS_LAYERS = frozenset((b"origin", b"x-forwarded-for", b"x-forwarded-proto"))


class HotLane:
    """The hot routes' entry: the lane for a request without the headers the layers act
    on, else ``layers`` (the app's middleware, its outermost layer)."""

    def __init__(self, layers: ASGIApp) -> None:
        chain: list[Any] = []
        layer: Any = layers
        while isinstance(layer, LAYERS) and len(chain) < len(LAYERS):
            chain.append(layer)
            layer = layer.app
        if tuple(type(layer) for layer in chain) != LAYERS:
            raise TypeError(f"the app's middleware is not the hot lane's {LAYERS}: {chain}")
        self.layers = layers
        self.cors: CORS = chain[0]
        self.edge: RequestEdge = chain[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for name, _ in scope["headers"]:
            if name in NEEDS_LAYERS:
                await self.layers(scope, receive, send)
                return
        if CompressPages.applies(scope):  # never a hot path, unless mounted below one
            await self.layers(scope, receive, send)
            return
        await self.edge.serve(scope, receive, send, _limited_answer, self.cors, answers=True)


async def _limited_answer(scope: Scope, receive: Receive, send: Send) -> Response:
    """What the layers inside RequestEdge answer a hot request: the per-address limit's
    refusal (the proxy layer and compression do nothing for it), else the endpoint's
    answer; RequestEdge sends it."""
    refused = await refusal(scope)
    if refused is not None:
        return refused
    return await hot_answer(scope, receive, send)
