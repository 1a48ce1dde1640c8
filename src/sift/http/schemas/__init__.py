"""The OpenAPI document: each route names its request body and answer with `doc(...)`,
and `install(app)` builds the document from those models, with the error statuses the
routes answer and FastAPI's 422 (never answered: bad input gets Meilisearch's 4xx)
taken out."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from sift.http.schemas import requests, responses

_BODIES: dict[str, Any] = {}  # component name -> request body type
DOCUMENT_TYPES = ("application/json", "application/x-ndjson", "text/csv")
USE_NETWORK_QUERY: dict[str, Any] = {
    "name": "useNetwork",
    "in": "query",
    "required": False,
    "schema": {"type": "boolean"},
    "description": "`true`: the documents of every shard, each shard asked of one of its "
    "remotes (the `network` experimental feature); `false`: this node's own documents. "
    "Omitted: `true` when the network has a leader, else `false` (Meilisearch's default).",
}


def doc(
    answer: Any = None,
    body: Any = None,
    *,
    status: int = 200,
    answer_media: str = "application/json",
    body_media: tuple[str, ...] = ("application/json",),
    body_required: bool = True,
    path_params: tuple[str, ...] = (),
    query: tuple[dict[str, Any], ...] = (),
) -> dict[str, Any]:
    """Route decorator arguments documenting `body` (a type from schemas.requests) and the
    `answer` (from schemas.responses) of the success `status`. `path_params` names the
    path's parameters for an endpoint that reads them from the Request itself (a hot
    route, sift.http.hot_routes), as FastAPI documents those of its own signature.
    `query` documents query-string parameters a route reads from the Request (OpenAPI
    parameter objects, such as :data:`USE_NETWORK_QUERY`)."""
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if path_params or query:
        extra["parameters"] = [
            {"name": name, "in": "path", "required": True,
             "schema": {"type": "string", "title": name.replace("_", " ").title()}}
            for name in path_params
        ] + list(query)  # fmt: skip
    if answer is not None:
        if answer_media == "application/json":
            kwargs["responses"] = {status: {"model": answer}}
        else:
            schema = {"type": "string"}
            kwargs["responses"] = {status: {"content": {answer_media: {"schema": schema}}}}
    if body is not None:
        name = _name(body)
        _BODIES[name] = body
        ref = {"$ref": f"#/components/schemas/{name}"}
        extra["requestBody"] = {
            "required": body_required,
            "content": {media: {"schema": ref} for media in body_media},
        }
    if extra:
        kwargs["openapi_extra"] = extra
    return kwargs


def _name(kind: Any) -> str:
    for module in (requests,):
        for attr, value in vars(module).items():
            if value is kind:
                return attr
    raise KeyError(f"request bodies come from sift.http.schemas.requests: {kind!r}")


def operation_id(route: APIRoute) -> str:
    """`name_method`: unique even where one function serves two methods (PUT and PATCH)."""
    return f"{route.name}_{sorted(route.methods)[0].lower()}"


# Routes whose body names an index or a document that may not exist.
NOT_FOUND_BY_BODY = frozenset({"/render-template"})


def _errors(path: str, operation: dict[str, Any]) -> dict[str, Any]:
    if path == "/health":
        return {"503": {"description": "The database cannot be reached"}}
    codes = ["400", "401", "403", "429"]  # 429: failed authentications, rate limits
    if "{" in path or path in NOT_FOUND_BY_BODY:
        codes.append("404")
    if "requestBody" in operation:
        codes += ["413", "415"]
    ref = {"$ref": "#/components/schemas/Error"}
    described = {
        "description": "Meilisearch's error object",
        "content": {"application/json": {"schema": ref}},
    }
    return {code: described for code in codes}


def install(app: FastAPI) -> None:
    """Serve the document built from the routes' models (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        components = document.setdefault("components", {}).setdefault("schemas", {})
        template = "#/components/schemas/{model}"
        for name, kind in {**_BODIES, "Error": responses.Error}.items():
            schema = TypeAdapter(kind).json_schema(ref_template=template)
            components.update(schema.pop("$defs", {}))
            components[name] = schema
        for path, item in document.get("paths", {}).items():
            for operation in item.values():
                answers = operation.setdefault("responses", {})
                answers.pop("422", None)
                for code, described in _errors(path, operation).items():
                    answers.setdefault(code, described)
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["DOCUMENT_TYPES", "doc", "install", "operation_id", "requests", "responses"]
