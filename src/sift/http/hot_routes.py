"""The hot routes (search, multi-search, /events, /version, /health), before FastAPI's.

FastAPI keeps each included router behind a wrapper and, for every request, walks the
routers in the order they were included, matching each route of each one (twice: once
to choose, once to handle), then solves the chosen route's dependencies. Measured in
process (scifact, `benchmarks/load` notes in docs/benchmarks.md), that was ~135 µs of
the ~195 µs an authenticated `GET /version` costs the app, and ~150 µs of every search.

The endpoints served here take the ``Request`` alone and authenticate themselves, so
they run as plain Starlette routes placed first in the app's route list: one regular
expression each, no dependency solving. FastAPI still declares the very same endpoint
functions, and /openapi.json is built from those declarations; a request for another
route (or another method on the same path) goes on to FastAPI's router as before, and
errors reach the same exception handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import Match, Route
from starlette.types import Scope


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
) -> list[HotRoute]:
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
    return found
