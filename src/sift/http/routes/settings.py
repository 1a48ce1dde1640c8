"""/indexes/{uid}/settings and one sub-route per setting."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from sift.engine.settings import default_settings, validate_settings, with_defaults
from sift.http.auth import forwarded_origin, guard, services
from sift.http.responses import JSONResponse, accepted, json_body, validate_index_uid
from sift.http.routes.indexes import get_record
from sift.http.routes.network import already_here
from sift.http.schemas import doc, requests, responses
from sift.ops.keys import Principal
from sift.semantic.embedders import redacted
from sift.tasks.views import summary_view

router = APIRouter(tags=["Settings"])

SETTING_NAMES = (
    "displayedAttributes",
    "searchableAttributes",
    "filterableAttributes",
    "sortableAttributes",
    "rankingRules",
    "stopWords",
    "nonSeparatorTokens",
    "separatorTokens",
    "dictionary",
    "synonyms",
    "distinctAttribute",
    "proximityPrecision",
    "typoTolerance",
    "faceting",
    "pagination",
    "embedders",
    "searchCutoffMs",
    "localizedAttributes",
    "facetSearch",
    "prefixSearch",
    "foreignKeys",
    "chat",
    "clickRanking",
)
# Settings Sift keeps and returns for SDKs without acting on them (foreign-key hydration
# and conversational search are not implemented); their own routes always answer.
STORED_ONLY = ("foreignKeys", "chat")
# Shown in the whole-settings object only once changed, so an index that does not use
# them answers exactly Meilisearch's object: the stored-only ones and Sift's additions.
SHOWN_ONCE_SET = (*STORED_ONLY, "clickRanking")
BY_ROUTE = {re.sub(r"([A-Z])", r"-\1", name).lower(): name for name in SETTING_NAMES}


async def _enqueue(request: Request, index_uid: str, patch: dict[str, Any]) -> JSONResponse:
    validate_index_uid(index_uid)
    patch = validate_settings(patch)
    origin = forwarded_origin(request)  # the leader forwarding it
    if (answer := already_here(request, origin)) is not None:
        return answer
    task = await run_in_threadpool(
        services(request).enqueue, "settingsUpdate", index_uid, shown(patch),
        {"settings": patch}, (), origin,
    )
    return accepted(summary_view(task))


@router.get(
    "/indexes/{index_uid}/settings", summary="All settings of an index", **doc(responses.Settings)
)
async def get_settings(
    request: Request, index_uid: str, _: Principal = Depends(guard("settings.get"))
) -> JSONResponse:
    record = await get_record(request, index_uid)
    defaults = services(request).config.index_defaults
    settings = shown(with_defaults(record.settings, defaults))
    base = default_settings(defaults)
    for name in SHOWN_ONCE_SET:
        # Meilisearch leaves the stored-only ones out of the whole-settings object while
        # their experimental features are off; Sift shows them once they are set.
        if settings.get(name) == base.get(name):
            settings.pop(name, None)
    return JSONResponse(settings)


@router.patch(
    "/indexes/{index_uid}/settings",
    summary="Update settings",
    status_code=202,
    **doc(responses.TaskSummary, requests.SettingsUpdate, status=202),
)
async def update_settings(
    request: Request, index_uid: str, _: Principal = Depends(guard("settings.update"))
) -> JSONResponse:
    return await _enqueue(request, index_uid, await json_body(request))


@router.delete(
    "/indexes/{index_uid}/settings",
    summary="Reset all settings",
    status_code=202,
    **doc(responses.TaskSummary, status=202),
)
async def reset_settings(
    request: Request, index_uid: str, _: Principal = Depends(guard("settings.update"))
) -> JSONResponse:
    return await _enqueue(request, index_uid, dict.fromkeys(SETTING_NAMES))


def shown(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as the API shows them: embedders' API keys redacted."""
    if "embedders" not in settings:
        return settings
    return {**settings, "embedders": redacted(settings["embedders"])}


def _setting(name: str) -> str:
    from sift.errors import SiftError

    if name not in BY_ROUTE:
        raise SiftError("Not Found", "not_found")
    return BY_ROUTE[name]


@router.get("/indexes/{index_uid}/settings/{name}", summary="One setting", **doc(responses.Setting))
async def get_setting(
    request: Request, index_uid: str, name: str, _: Principal = Depends(guard("settings.get"))
) -> JSONResponse:
    key = _setting(name)
    record = await get_record(request, index_uid)
    mode = services(request).config.index_defaults
    value = record.settings.get(key, default_settings(mode).get(key))
    return JSONResponse(shown({key: value})[key])


@router.put(
    "/indexes/{index_uid}/settings/{name}",
    summary="Update one setting",
    status_code=202,
    **doc(responses.TaskSummary, requests.OneSetting, status=202),
)
@router.patch(
    "/indexes/{index_uid}/settings/{name}",
    summary="Update one setting",
    status_code=202,
    **doc(responses.TaskSummary, requests.OneSetting, status=202),
)
async def update_setting(
    request: Request,
    index_uid: str,
    name: str,
    _: Principal = Depends(guard("settings.update")),
) -> JSONResponse:
    key = _setting(name)
    return await _enqueue(request, index_uid, {key: await json_body(request, required=False)})


@router.delete(
    "/indexes/{index_uid}/settings/{name}",
    summary="Reset one setting",
    status_code=202,
    **doc(responses.TaskSummary, status=202),
)
async def reset_setting(
    request: Request, index_uid: str, name: str, _: Principal = Depends(guard("settings.update"))
) -> JSONResponse:
    return await _enqueue(request, index_uid, {_setting(name): None})
