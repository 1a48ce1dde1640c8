"""POST /render-template: preview a template on a document or a search query, behind the
`renderRoute` experimental feature (sift.ops.experimental; the rendering: sift.semantic.render).

A template from an index reveals its settings, a stored document its content: the key
needs `settings.get` (every call) and `documents.get` for a stored input, on the indexes
they name."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from sift.errors import IndexNotFound, SiftError
from sift.http.auth import guard, services
from sift.http.responses import JSONResponse, json_body, require_object, validate_index_uid
from sift.http.schemas import doc, requests, responses
from sift.ops import experimental
from sift.ops.keys import Principal
from sift.semantic import render
from sift.semantic.service import searchable_of, searchable_predicate
from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows

router = APIRouter(tags=["Experimental features"])


def _check_access(principal: Principal, action: str, index_uid: str) -> None:
    validate_index_uid(index_uid)
    if not (principal.can(action) and principal.can_index(index_uid)):
        raise SiftError("The provided API key is invalid.", "invalid_api_key")


def _settings(conn: Connection, index_uid: str | None) -> dict[str, Any] | None:
    if index_uid is None:
        return None
    record = index_rows.get(conn, index_uid)
    if record is None:
        raise IndexNotFound(index_uid)
    return record.settings


def _document(conn: Connection, given: render.InputSpec) -> dict[str, Any] | None:
    """The stored document an `indexDocument` input names (None for inline inputs)."""
    if given.index_uid is None or given.doc_id is None:
        return None
    record = index_rows.get(conn, given.index_uid)
    body = doc_rows.get(conn, record.id, given.doc_id) if record is not None else None
    if body is None:
        raise SiftError(
            f"Document with ID `{given.doc_id}` not found in index `{given.index_uid}`.",
            "render_document_not_found",
        )
    return orjson.loads(body)


@router.post(
    "/render-template",
    summary="Render a template on a document or a search query",
    **doc(responses.RenderedTemplate, requests.RenderTemplate),
)
async def render_template(
    request: Request, principal: Principal = Depends(guard("settings.get"))
) -> JSONResponse:
    svc = services(request)
    await run_in_threadpool(experimental.require, svc.db, "renderRoute", "POST /render-template")
    spec, given = render.parse(require_object(await json_body(request)))
    if spec.index_uid is not None:
        _check_access(principal, "settings.get", spec.index_uid)
    if given is not None and given.index_uid is not None:
        _check_access(principal, "documents.get", given.index_uid)

    def run() -> dict[str, Any]:
        with svc.db.read() as conn:
            template_settings = _settings(conn, spec.index_uid)
            doc_settings = _settings(conn, given.index_uid if given else None)
            document = _document(conn, given) if given is not None else None
        stored = None
        if template_settings is not None:
            stored = render.stored_template(spec, template_settings)
        # `field.is_searchable` follows the index the document, else the template, is from.
        settings = doc_settings or template_settings or {}
        searchable = searchable_predicate(searchable_of(settings))
        return render.render(spec, stored, given, document, searchable)

    return JSONResponse(await run_in_threadpool(run))
