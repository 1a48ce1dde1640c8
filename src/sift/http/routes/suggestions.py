"""/indexes/{uid}/query-suggestions: keep an index of the source index's popular queries
(sift.insights.suggestions), a Sift addition in Meilisearch's conventions."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sift.errors import SiftError
from sift.http.auth import guard, services
from sift.http.responses import JSONResponse, json_body, require_object, validate_index_uid
from sift.http.schemas import doc, requests, responses
from sift.insights import SuggestionRule, load_rules, parse_rule, save_rule
from sift.ops.keys import Principal

router = APIRouter(tags=["Query suggestions"])
PATH = "/indexes/{index_uid}/query-suggestions"


def _enabled(request: Request) -> None:
    if services(request).suggestions is None:
        raise SiftError(
            "Query suggestions are made from search analytics, which are off on this "
            "instance (setting `no_analytics`).",
            "feature_not_enabled",
        )


def _rule(request: Request, index_uid: str) -> SuggestionRule | None:
    return load_rules(services(request).db).get(index_uid)


@router.get(PATH, summary="The index's query suggestions rule", **doc(responses.SuggestionRule))
async def get_rule(
    request: Request, index_uid: str, _: Principal = Depends(guard("settings.get"))
) -> JSONResponse:
    validate_index_uid(index_uid)
    rule = await run_in_threadpool(_rule, request, index_uid)
    if rule is None:
        raise SiftError(
            f"Index `{index_uid}` has no query suggestions.", "query_suggestions_not_found"
        )
    return JSONResponse(rule.view())


@router.patch(
    PATH,
    summary="Keep an index of this index's popular queries",
    **doc(responses.SuggestionRule, requests.SuggestionRuleUpdate),
)
async def update_rule(
    request: Request, index_uid: str, _: Principal = Depends(guard("settings.update"))
) -> JSONResponse:
    validate_index_uid(index_uid)
    _enabled(request)
    body = require_object(await json_body(request))
    current = await run_in_threadpool(_rule, request, index_uid)
    rule = parse_rule(index_uid, body, current)
    await run_in_threadpool(save_rule, services(request).db, rule, index_uid)
    return JSONResponse(rule.view())


@router.delete(PATH, summary="Stop keeping query suggestions", status_code=204)
async def delete_rule(
    request: Request, index_uid: str, _: Principal = Depends(guard("settings.update"))
) -> Response:
    validate_index_uid(index_uid)
    if await run_in_threadpool(_rule, request, index_uid) is None:
        raise SiftError(
            f"Index `{index_uid}` has no query suggestions.", "query_suggestions_not_found"
        )
    await run_in_threadpool(save_rule, services(request).db, None, index_uid)
    return Response(status_code=204)
