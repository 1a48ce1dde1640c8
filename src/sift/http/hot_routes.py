"""The hot routes (search, multi-search, /events, /version, /health): a lane of their own.

FastAPI keeps each included router behind a wrapper and, for every request, walks the
routers in the order they were included, matching each route of each one (twice: once
to choose, once to handle), then solves the chosen route's dependencies. Measured in
process (scifact, `benchmarks/load` notes in docs/benchmarks.md), that was ~135 µs of
the ~195 µs an authenticated `GET /version` costs the app, and ~150 µs of every search.

The endpoints served here take the ``Request`` alone and authenticate themselves, so
they need no dependency solving; and the layers FastAPI and Starlette put around the
app's own middleware (the server-error and OpenTelemetry layers outside it; the
exception middleware, a file-closing exit stack, the router and the route's own request
wrapper inside it) do nothing for them that the app's middleware does not do already.
So a request that one of them matches, path and method, goes through the app's own
middleware alone (:func:`lane_entry` finds its outermost layer in the built stack), and
its innermost layer, :class:`HotEndpoints`, calls the endpoint and answers what it
raises with the app's exception handlers, as Starlette's exception middleware would.
Every other request, a wrong method on a hot path included (its 405), goes through the
whole stack as before. FastAPI still declares the very same endpoint functions, and
/openapi.json is built from those declarations.

Bypassed, too: FastAPI's native OpenTelemetry middleware, which checks per request
whether an OpenTelemetry SDK was configured (Sift configures none; its metrics are
Prometheus', which the lane keeps).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

HOT = "sift.hot_route"  # scope key: the hot route the lane matched


class HotRoute(Route):
    """A Starlette route that records itself as ``scope["route"]``, as FastAPI's do: the
    request metrics and the error log read the route's template from there."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match != Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def hot_routes(
    routers: Iterable[APIRouter], endpoints: Collection[Callable[..., Any]]
) -> HotRoutes:
    """A front route for each route of ``routers`` whose endpoint is one of ``endpoints``
    (each a function of the ``Request`` alone), with the same path, methods and name."""
    found = []
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.endpoint in endpoints:
                hot = HotRoute(route.path, route.endpoint, name=route.name)
                hot.methods = set(route.methods)  # Starlette would add HEAD to a GET
                found.append(hot)
    missing = set(endpoints) - {route.endpoint for route in found}
    if missing:  # a renamed or moved endpoint must not silently fall back to the slow path
        raise LookupError(f"hot endpoints not found in the routers: {missing}")
    return HotRoutes(found)


class HotRoutes:
    """The hot routes, in order, and for each path without parameters the routes whose
    pattern matches it (its own, and any with parameters that would): a request for it
    need try no other. Trying each route in turn cost `POST /events` ~5 µs of regular
    expressions (it came last of six)."""

    def __init__(self, routes: Iterable[HotRoute]) -> None:
        self.routes = list(routes)
        self._with_params = [r for r in self.routes if r.param_convertors]
        self._by_path = {  # in their order: the first full match wins, as it did
            route.path: [r for r in self.routes if r.path_regex.match(route.path)]
            for route in self.routes
            if not route.param_convertors
        }

    def __iter__(self) -> Iterator[HotRoute]:
        return iter(self.routes)

    def __len__(self) -> int:
        return len(self.routes)

    def candidates(self, scope: Scope) -> list[HotRoute]:
        """The routes that may match the request: the others cannot. Under a root path
        (the app mounted below a prefix), every route, as Starlette would try them."""
        if scope.get("root_path"):
            return self.routes
        return self._by_path.get(scope["path"], self._with_params)


def match_hot(routes: HotRoutes, scope: Scope) -> bool:
    """Whether one of ``routes`` matches the request, path and method; if so, its
    ``route``, ``endpoint`` and ``path_params`` are put in ``scope`` as a router would."""
    for route in routes.candidates(scope):
        match, child_scope = route.matches(scope)
        if match == Match.FULL:
            scope.update(child_scope)
            scope[HOT] = route
            return True
    return False


def lane_entry(stack: ASGIApp, outermost: type) -> ASGIApp | None:
    """The layer of type ``outermost`` (the app's first middleware) in the built ``stack``,
    found through each layer's ``app``; None if the chain does not lead to one (the hot
    routes then take the whole stack, as any other request)."""
    layer: Any = stack
    seen = set()
    while layer is not None and id(layer) not in seen:
        if isinstance(layer, outermost):
            return layer  # type: ignore[no-any-return]
        seen.add(id(layer))
        layer = getattr(layer, "app", None)
    return None


class HotEndpoints:
    """The app's innermost middleware: serves a request the lane matched (``scope[HOT]``)
    and passes every other one on to FastAPI's exception middleware and router."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if HOT in scope:
            await serve_hot(scope, receive, send)
        else:
            await self.app(scope, receive, send)


async def serve_hot(scope: Scope, receive: Receive, send: Send) -> None:
    """Calls the endpoint of the hot route the lane matched (``scope[HOT]``) and sends its
    answer, or the answer of the app's handler for what it raised."""
    response = await hot_answer(scope, receive, send)
    await response(scope, receive, send)


async def hot_answer(scope: Scope, receive: Receive, send: Send) -> Response:
    """What :func:`serve_hot` sends: the endpoint's response, or the response of the app's
    handler for what it raised (RequestEdge sends it on the hot lane, sift/http/edge.py)."""
    request = Request(scope, receive, send)
    try:
        return await scope[HOT].endpoint(request)  # type: ignore[no-any-return]
    except Exception as exc:
        handler = _handler_of(scope["app"].exception_handlers, exc)
        if handler is None:
            raise  # RequestEdge answers it (sift/http/edge.py)
        response = handler(request, exc)
        if inspect.isawaitable(response):
            response = await response
        exc.__traceback__ = None  # as Starlette: a reused instance must not keep frames
        return response  # type: ignore[no-any-return]


def _handler_of(handlers: dict[Any, Callable[..., Any]], exc: Exception) -> Any:
    """The handler Starlette's exception middleware would choose: by the status of an
    HTTP exception, else by the nearest class in the exception's MRO."""
    if isinstance(exc, HTTPException) and exc.status_code in handlers:
        return handlers[exc.status_code]
    for cls in type(exc).__mro__:
        if cls in handlers and cls is not Exception:  # Exception's is the 500's, outside
            return handlers[cls]
    return None
