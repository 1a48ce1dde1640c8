"""/experimental-features: which of Meilisearch's experimental features Sift has.

Sift has no runtime switches: what it has is always on (the Prometheus ``/metrics``
route, the ``CONTAINS`` filter operator, ``GET /tasks/{uid}/documents``), what it lacks
cannot be turned on. The route tells clients which is which; a ``PATCH`` that asks for
the state a feature already has succeeds, any other is refused with the reason."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from sift.errors import SiftError
from sift.http.auth import guard
from sift.http.responses import JSONResponse, check_fields, json_body, require_object, wrong_type
from sift.http.schemas import doc, requests, responses
from sift.keys import Principal

router = APIRouter(tags=["Experimental features"])

# Meilisearch's experimental features, in its order, and whether Sift has each.
FEATURES: dict[str, bool] = {
    "metrics": True,
    "logsRoute": False,
    "editDocumentsByFunction": False,
    "containsFilter": True,
    "network": False,
    "getTaskDocumentsRoute": True,  # while a task's payload is stored (routes/tasks.py)
    "compositeEmbedders": False,
    "chatCompletions": False,
    "multimodal": False,
    "vectorStoreSetting": False,
}


@router.get(
    "/experimental-features",
    summary="Which experimental features Sift has",
    **doc(responses.Features),
)
async def get_features(_: Principal = Depends(guard("experimental.get"))) -> JSONResponse:
    return JSONResponse(FEATURES)


@router.patch(
    "/experimental-features",
    summary="Ask for experimental features",
    **doc(responses.Features, requests.ExperimentalFeatures),
)
async def patch_features(
    request: Request, _: Principal = Depends(guard("experimental.update"))
) -> JSONResponse:
    body = require_object(await json_body(request))
    check_fields(body, tuple(FEATURES))
    for name, wanted in body.items():
        if wanted is None:
            continue
        if not isinstance(wanted, bool):
            raise wrong_type(name, "a boolean", wanted, "bad_request")
        if wanted and not FEATURES[name]:
            raise SiftError(
                f"Sift does not have the experimental feature `{name}`.", "feature_not_enabled"
            )
        if not wanted and FEATURES[name]:
            raise SiftError(
                f"`{name}` is built into Sift and always on: it cannot be turned off.",
                "bad_request",
            )
    return JSONResponse(FEATURES)
