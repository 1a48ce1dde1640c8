"""Composition root: configuration -> storage, indexes, worker -> the ASGI app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import sift
from sift.config import Config, load_config, split_list
from sift.engine import kernels
from sift.errors import SiftError
from sift.http import access_log, granian_server, metrics, schemas
from sift.http.app_state import AppState
from sift.http.compress import CompressPages
from sift.http.cors import CORS, cors_options
from sift.http.edge import RequestEdge
from sift.http.hot_lane import HotLane
from sift.http.hot_routes import HotEndpoints, HotRoutes, hot_routes, lane_entry, match_hot
from sift.http.responses import JSONResponse, error_response
from sift.http.routes import (
    admin,
    admin_rules,
    admin_sources,
    admin_webhooks,
    analytics,
    backups,
    batches,
    documents,
    events,
    experimental,
    fields,
    indexes,
    keys,
    network,
    render,
    search,
    search_rules,
    settings,
    similar,
    site,
    sources,
    suggestions,
    system,
    tasks,
    webhooks,
)
from sift.http.routes.admin import SignInRequired, to_login
from sift.http.search_placement import SearchPlacement, SearchThreads
from sift.http.throttle import LimitAddresses, Limits
from sift.services import Services
from sift.tasks import memory

log = logging.getLogger("sift")


def middleware(config: Config) -> list[Middleware]:
    """The middleware stack, outermost first (Starlette's own error middleware wraps it)."""
    proxies = split_list(config.trusted_proxies)
    return [
        # Outermost: a browser can read an answer only when it carries CORS headers, and
        # that includes a 429 and the 500 that RequestEdge answers for an unexpected
        # failure. Preflights are answered here, before any limit.
        Middleware(CORS, **cors_options(config)),
        # Request ids, security headers, request metrics, and an answer to what no handler
        # answered, so the connection survives: one layer, one send wrapper (edge.py).
        Middleware(RequestEdge),
        # The client's address and scheme, from X-Forwarded-* of trusted proxies only:
        # everything below (rate limits, Secure cookies, logs) reads them.
        Middleware(ProxyHeadersMiddleware, trusted_hosts="*" if "*" in proxies else proxies),
        Middleware(LimitAddresses),
        Middleware(CompressPages),
        # Innermost: the hot routes the lane matched are answered here (SiftApp below).
        Middleware(HotEndpoints),
    ]


class SiftApp(FastAPI):
    """FastAPI, with the hot routes (search, /version...) served through the app's own
    middleware alone, not FastAPI's and Starlette's layers around and inside it
    (sift/http/hot_routes.py)."""

    hot_routes: HotRoutes = HotRoutes(())
    _lane: ASGIApp | None = None  # the app's own middleware, its outermost layer
    _hot: ASGIApp | None = None  # the hot routes' entry to it (sift/http/hot_lane.py)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read several times per request: its values as plain attributes (app_state.py).
        self.state = AppState({name: self.state[name] for name in self.state})

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        entry = lane_entry(stack, self.user_middleware[0].cls)
        self._lane = entry or stack
        self._hot = stack if entry is None else HotLane(entry)
        return stack

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self.root_path:
                scope["root_path"] = self.root_path
            if match_hot(self.hot_routes, scope):
                scope["app"] = self
                scope.setdefault("router", self.router)
                if self.middleware_stack is None:
                    self.middleware_stack = self.build_middleware_stack()
                assert self._hot is not None
                await self._hot(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SiftError)
    async def sift_error(_: Request, exc: SiftError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(SignInRequired)
    async def sign_in_first(_: Request, __: SignInRequired) -> Response:
        return to_login()

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(SiftError(str(exc.errors()), "bad_request"))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            # No such route: Meilisearch answers an empty 404 (SDKs then report
            # "404: Not Found"); a missing index, document, key... has its own error.
            return Response(status_code=404)
        if exc.status_code == 405:
            return JSONResponse(
                {
                    "message": "Method Not Allowed",
                    "code": "bad_request",
                    "type": "invalid_request",
                    "link": "https://docs.meilisearch.com/errors#bad_request",
                },
                status_code=405,
            )
        return error_response(SiftError(str(exc.detail), "bad_request"))

    # No handler for `Exception`: Starlette would re-raise after it and uvicorn then closes
    # the connection; edge.RequestEdge answers those instead.


def create_app(config: Config | None = None, services: Services | None = None) -> SiftApp:
    config = config or load_config()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The access log's writer first, before this process's other threads: glibc gives
        # threads new arenas up to the cap (sift.tasks.memory; 2 when this was measured,
        # 4 now, so that the first search thread gets one of its own), then the existing
        # ones in turn, as they first allocate, so one thread more or less before the
        # task worker decides which arena the worker shares; with 2 arenas and the writer
        # started only by the first access record (never at --log-level warning) the
        # worker shared the event loop's, and a 200k import's peak RSS was 1.5-2 MiB
        # higher (docs/benchmarks/memory.md, "The access log's thread and the import's malloc
        # arena").
        access_log.start_writers(logging.getLogger("uvicorn.access"))
        svc = services or await run_in_threadpool(Services.build, config)
        await run_in_threadpool(kernels.warm_up)  # compiled search loops, before traffic
        app.state.services = svc
        app.state.search_threads = SearchThreads(config.search_threads, trim=memory.trim_arena)
        app.state.search_placement = SearchPlacement(config.search_inline_ms / 1000)
        app.state.limits = Limits(config)
        svc.start()
        if config.demo:
            from sift import demo

            await run_in_threadpool(demo.seed, svc)
        if not config.master_key:
            log.warning(
                "NO MASTER KEY: Sift is running open. Anyone who can reach it can read and "
                "change every index. Set --master-key (or SIFT_MASTER_KEY) in production."
            )
        url = f"http://{config.host}:{config.port}"
        log.info(
            f"Sift is ready on {url}: search page {url}/, dashboard {url}/admin",
            extra={"url": url, "indexes": len(svc.catalog.uids())},
        )
        try:
            yield
        finally:
            granian_server.ignore_further_stops()  # a no-op elsewhere
            await app.state.limits.close()
            app.state.search_threads.close()
            await run_in_threadpool(svc.stop)

    app = SiftApp(
        title="Sift",
        version=sift.__version__,
        summary="Self-hosted search back end speaking the Meilisearch v1 API.",
        lifespan=lifespan,
        # No /docs: Swagger UI loads its scripts from a CDN, which the page CSP (and an
        # offline network) refuses. The document is public at /openapi.json.
        docs_url=None,
        redoc_url=None,
        default_response_class=JSONResponse,
        middleware=middleware(config),
        generate_unique_id_function=schemas.operation_id,
    )
    install_error_handlers(app)
    for module in (
        indexes,
        documents,
        search,
        similar,
        settings,
        tasks,
        batches,
        fields,
        keys,
        webhooks,
        backups,
        experimental,
        render,
        search_rules,
        network,
        system,
        metrics,
        analytics,
        events,
        suggestions,
        sources,
        site,
        admin,
        admin_webhooks,
        admin_sources,
        admin_rules,
    ):
        app.include_router(module.router)
    # What a search box, its click events and a load balancer call, in a lane of their
    # own (sift/http/hot_routes.py).
    hot = (search.search_post, search.search_get, search.multi_search, system.version,
           system.health, events.send_event)  # fmt: skip
    app.hot_routes = hot_routes((search.router, system.router, events.router), hot)
    schemas.install(app)
    return app
