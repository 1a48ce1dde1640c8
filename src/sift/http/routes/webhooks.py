"""/webhooks: the URLs finished tasks are POSTed to (Meilisearch's webhooks API)."""

from __future__ import annotations

import uuid as uuid_lib
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sift.errors import SiftError
from sift.http.auth import guard, services
from sift.http.responses import JSONResponse, check_fields, json_body, require_object
from sift.http.schemas import doc, requests, responses
from sift.ops.keys import Principal
from sift.ops.webhooks import MAX_WEBHOOKS, Webhook, check_url, merge_headers, view
from sift.storage import webhooks as webhook_rows
from sift.storage.database import utcnow
from sift.storage.webhooks import WebhookRecord

router = APIRouter(tags=["Webhooks"])
FIELDS = ("url", "headers")


def _immutable(body: dict[str, Any]) -> None:
    for name, code in (
        ("uuid", "immutable_webhook_uuid"),
        ("isEditable", "immutable_webhook_is_editable"),
    ):
        if name in body:
            raise SiftError(f"Immutable field `{name}`: expected one of `url`, `headers`", code)
    check_fields(body, FIELDS)


def _uuid(value: str) -> str:
    try:
        return str(uuid_lib.UUID(value))
    except ValueError:
        raise SiftError(
            f"Invalid value at `.uuid`: `{value}` is not a valid UUID.", "invalid_webhook_uuid"
        ) from None


def _find(svc: Any, raw: str) -> Webhook:
    wanted = _uuid(raw)
    for webhook in svc.webhooks.webhooks():
        if webhook.uuid == wanted:
            return webhook
    raise SiftError(f"Webhook `{wanted}` not found.", "webhook_not_found")


def _editable(svc: Any, raw: str) -> Webhook:
    webhook = _find(svc, raw)
    if not webhook.editable:
        raise SiftError(
            f"Webhook `{webhook.uuid}` is set by the instance's options and cannot be "
            "modified through the API.",
            "immutable_webhook",
        )
    return webhook


@router.get("/webhooks", summary="List webhooks", **doc(responses.WebhookList))
async def list_webhooks(
    request: Request, _: Principal = Depends(guard("webhooks.get"))
) -> JSONResponse:
    svc = services(request)
    found = await run_in_threadpool(svc.webhooks.webhooks)
    return JSONResponse({"results": [view(w) for w in found]})


@router.post(
    "/webhooks",
    summary="Create a webhook",
    status_code=201,
    **doc(responses.Webhook, requests.WebhookCreate, status=201),
)
async def create_webhook(
    request: Request, _: Principal = Depends(guard("webhooks.create"))
) -> JSONResponse:
    body = require_object(await json_body(request))
    _immutable(body)
    if "url" not in body:
        raise SiftError("Missing field `url`", "invalid_webhook_url")
    url = check_url(body["url"])
    headers = merge_headers({}, body.get("headers"))
    svc = services(request)

    def create() -> Webhook:
        record = WebhookRecord(str(uuid_lib.uuid4()), url, headers, utcnow())
        with svc.db.write() as conn:
            if webhook_rows.count(conn) >= MAX_WEBHOOKS:
                raise SiftError(
                    f"Defining too many webhooks would crush the server. Please limit the "
                    f"number of webhooks to {MAX_WEBHOOKS}. You may use a third-party "
                    "proxy server to dispatch events to more than that many endpoints.",
                    "too_many_webhooks",
                )
            webhook_rows.insert(conn, record)
        return Webhook(record.uuid, record.url, record.headers)

    return JSONResponse(view(await run_in_threadpool(create)), status_code=201)


@router.get("/webhooks/{uuid}", summary="Get a webhook", **doc(responses.Webhook))
async def get_webhook(
    request: Request, uuid: str, _: Principal = Depends(guard("webhooks.get"))
) -> JSONResponse:
    svc = services(request)
    return JSONResponse(view(await run_in_threadpool(_find, svc, uuid)))


@router.patch(
    "/webhooks/{uuid}",
    summary="Update a webhook's URL or headers",
    **doc(responses.Webhook, requests.WebhookUpdate),
)
async def update_webhook(
    request: Request, uuid: str, _: Principal = Depends(guard("webhooks.update"))
) -> JSONResponse:
    body = require_object(await json_body(request))
    _immutable(body)
    svc = services(request)

    def update() -> Webhook:
        current = _editable(svc, uuid)
        url = check_url(body["url"]) if "url" in body else current.url
        headers = (
            merge_headers(current.headers, body["headers"])
            if "headers" in body
            else (current.headers)
        )
        with svc.db.write() as conn:
            webhook_rows.update(conn, current.uuid, url, headers)
        return Webhook(current.uuid, url, headers)

    return JSONResponse(view(await run_in_threadpool(update)))


@router.delete("/webhooks/{uuid}", summary="Delete a webhook", status_code=204, **doc(status=204))
async def delete_webhook(
    request: Request, uuid: str, _: Principal = Depends(guard("webhooks.delete"))
) -> Response:
    svc = services(request)

    def delete() -> None:
        current = _editable(svc, uuid)
        with svc.db.write() as conn:
            if not webhook_rows.delete(conn, current.uuid):
                raise SiftError(f"Webhook `{current.uuid}` not found.", "webhook_not_found")

    await run_in_threadpool(delete)
    return Response(status_code=204)
