"""/dynamic-search-rules: search rules (Meilisearch's experimental ``dynamicSearchRules``).

Reads answer at once; changes are tasks (``dsrUpdate``, ``dsrClear``) answered 202, as in
Meilisearch, and searches see them once the task has succeeded. Every route needs the
experimental switch on (``feature_not_enabled`` otherwise).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from sift.http.auth import guard, services
from sift.http.responses import (
    JSONResponse,
    accepted,
    check_fields,
    json_body,
    require_object,
    wrong_type,
)
from sift.http.schemas import doc, requests, responses
from sift.inputs import U32, uint_field
from sift.ops import experimental
from sift.ops.keys import Principal
from sift.rules import CLEAR, FEATURE, UPDATE, check_uid, parse_patch
from sift.rules import store as rule_store
from sift.tasks.views import summary_view

router = APIRouter(tags=["Search rules"])
ROUTE = "/dynamic-search-rules"
DEFAULT_LIMIT = 20


def _require(request: Request) -> Any:
    svc = services(request)
    experimental.require(svc.db, FEATURE, ROUTE)
    return svc


def _list(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    svc = _require(request)
    check_fields(body, ("offset", "limit", "filter"))
    offset = uint_field("offset", body.get("offset") or 0, U32, "bad_request")
    limit = body.get("limit")
    limit = DEFAULT_LIMIT if limit is None else uint_field("limit", limit, U32, "bad_request")
    wanted = body.get("filter") or {}
    if not isinstance(wanted, dict):
        raise wrong_type("filter", "an object", wanted, "bad_request")
    check_fields(wanted, ("query", "active"))
    query, active = wanted.get("query"), wanted.get("active")
    if query is not None and not isinstance(query, str):
        raise wrong_type("filter.query", "a string", query, "bad_request")
    if active is not None and not isinstance(active, bool):
        raise wrong_type("filter.active", "a boolean", active, "bad_request")
    with svc.db.read() as conn:
        return rule_store.listing(conn, offset, limit, query, active)


@router.post(ROUTE, summary="List search rules",
             **doc(responses.SearchRuleList, requests.SearchRuleListQuery, body_required=False))
async def list_search_rules(
    request: Request, _: Principal = Depends(guard("dynamicSearchRules.get"))
) -> JSONResponse:
    body = await json_body(request, required=False)
    body = {} if body is None else require_object(body)
    return JSONResponse(await run_in_threadpool(_list, request, body))


def _get(request: Request, uid: str) -> dict[str, Any]:
    svc = _require(request)
    with svc.db.read() as conn:
        return rule_store.get(conn, uid)


@router.get(ROUTE + "/{uid}", summary="Get a search rule", **doc(responses.SearchRule))
async def get_search_rule(
    request: Request, uid: str, _: Principal = Depends(guard("dynamicSearchRules.get"))
) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(_get, request, uid))


def _enqueue(request: Request, kind: str, params: dict[str, Any],
             details: dict[str, Any]) -> dict[str, Any]:
    svc = _require(request)
    return summary_view(svc.enqueue(kind, None, details, params))


@router.patch(ROUTE + "/{uid}", summary="Create or update a search rule", status_code=202,
              **doc(responses.TaskSummary, requests.SearchRuleUpdate, status=202))
async def update_search_rule(
    request: Request, uid: str, _: Principal = Depends(guard("dynamicSearchRules.update"))
) -> JSONResponse:
    check_uid(uid)
    patch = parse_patch(await json_body(request))
    summary = await run_in_threadpool(
        _enqueue, request, UPDATE, {"uid": uid, "patch": patch}, {"ruleUid": uid})
    return accepted(summary)


@router.delete(ROUTE + "/{uid}", summary="Delete a search rule", status_code=202,
               **doc(responses.TaskSummary, status=202))
async def delete_search_rule(
    request: Request, uid: str, _: Principal = Depends(guard("dynamicSearchRules.delete"))
) -> JSONResponse:
    check_uid(uid)
    summary = await run_in_threadpool(
        _enqueue, request, UPDATE, {"uid": uid, "delete": True}, {"ruleUid": uid})
    return accepted(summary)


@router.delete(ROUTE, summary="Delete every search rule", status_code=202,
               **doc(responses.TaskSummary, status=202))
async def delete_all_search_rules(
    request: Request, _: Principal = Depends(guard("dynamicSearchRules.delete"))
) -> JSONResponse:
    return accepted(await run_in_threadpool(_enqueue, request, CLEAR, {}, {"deletedRules": None}))
