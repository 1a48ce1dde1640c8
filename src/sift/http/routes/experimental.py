"""/experimental-features: which of Meilisearch's experimental features Sift has, and
the switches a client may turn (sift.ops.experimental)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from sift.http.auth import guard, services
from sift.http.responses import JSONResponse, check_fields, json_body, require_object, wrong_type
from sift.http.schemas import doc, requests, responses
from sift.ops import experimental
from sift.ops.keys import Principal
from sift.rules import FEATURE

router = APIRouter(tags=["Experimental features"])


@router.get(
    "/experimental-features",
    summary="Which experimental features Sift has",
    **doc(responses.Features),
)
async def get_features(
    request: Request, _: Principal = Depends(guard("experimental.get"))
) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(_features, request))


def _features(request: Request, wanted: dict[str, bool] | None = None) -> dict[str, bool]:
    svc = services(request)
    features = experimental.switch(svc.db, wanted) if wanted else experimental.features(svc.db)
    if wanted and "network" in wanted:
        svc.network.refresh()  # this node at once; the others within a second
    if wanted and FEATURE in wanted:
        svc.rules.invalidate()  # this node at once; the others within a second (RuleBook)
    return features


@router.patch(
    "/experimental-features",
    summary="Ask for experimental features",
    **doc(responses.Features, requests.ExperimentalFeatures),
)
async def patch_features(
    request: Request, _: Principal = Depends(guard("experimental.update"))
) -> JSONResponse:
    body = require_object(await json_body(request))
    check_fields(body, tuple(experimental.FEATURES))
    wanted: dict[str, bool] = {}
    for name, value in body.items():
        if value is None:
            continue
        if not isinstance(value, bool):
            raise wrong_type(name, "a boolean", value, "bad_request")
        wanted[name] = value
    return JSONResponse(await run_in_threadpool(_features, request, wanted))
