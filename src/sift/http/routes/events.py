"""POST /events: click and conversion events, as Meilisearch's `/events` takes them.

A search key may send them (a browser does), for the indexes it may search. Events are
buffered and written in batches with the search log (sift.insights)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sift.errors import SiftError
from sift.http.auth import authenticate, services
from sift.http.headers import utf8_header
from sift.http.responses import json_body, require_object
from sift.http.schemas import doc, requests
from sift.insights import parse_event
from sift.storage.database import utcnow

router = APIRouter(tags=["Analytics"])

USER_HEADER = b"x-ms-user-id"
# Every recorded event gets the same answer: built once (a Response only sends what it
# holds, so one serves every request), not per event.
CREATED = Response(status_code=201)


@router.post(
    "/events",
    summary="Record a click or a conversion",
    status_code=201,
    response_class=Response,  # Meilisearch answers 201 without a body
    responses={201: {"description": "Recorded (no body)"}},
    **doc(None, requests.InsightEvent),
)
async def send_event(request: Request) -> Response:
    # A hot route (sift.http.hot_routes): the Request alone, authenticated here, first.
    principal = await authenticate(request, "search")
    body = require_object(await json_body(request))
    # The header counts only where the body names no user: read it only then.
    user_header = utf8_header(request.scope, USER_HEADER) if body.get("userId") is None else None
    event = parse_event(body, user_header, utcnow())
    if not principal.can_index(event.index_uid):
        raise SiftError("The provided API key is invalid.", "invalid_api_key")
    analytics = services(request).analytics
    if analytics is None or not analytics.enabled:
        raise SiftError(
            "Analytics are off on this instance (setting `no_analytics`): events are not "
            "recorded.",
            "feature_not_enabled",
        )
    analytics.record_event(event)
    return CREATED
