"""The dashboard's webhooks page: list, create and delete webhooks through the API,
as the signed-in session's credential (sessions and CSRF: routes/admin.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from sift.http.routes.admin import SignedIn, check_csrf, page

router = APIRouter(include_in_schema=False)


@router.get("/admin/webhooks")
async def webhooks(
    request: Request, signed: SignedIn, message: str = "", error: str = "",
) -> Response:
    status, found = await signed.api("GET", "/webhooks")
    return page(
        request,
        "admin_webhooks.html",
        signed,
        webhooks=found.get("results", []) if status == 200 else [],
        unavailable=None if status == 200 else found.get("message"),
        message=message,
        error=error,
    )


@router.post("/admin/webhooks")
async def create_webhook(request: Request, signed: SignedIn) -> Response:
    form = await request.form()
    await check_csrf(request, signed)
    body: dict[str, Any] = {"url": str(form.get("url", "")).strip()}
    authorization = str(form.get("authorization", "")).strip()
    if authorization:
        body["headers"] = {"Authorization": authorization}
    status, created = await signed.api("POST", "/webhooks", json=body)
    if status != 201:
        return await webhooks(request, signed, error=(
            created.get("message", "The webhook was not created.")
        ))
    return await webhooks(request, signed, message=f"Created a webhook to {created['url']}.")


@router.post("/admin/webhooks/{uuid}/delete")
async def delete_webhook(request: Request, signed: SignedIn, uuid: str) -> Response:
    await check_csrf(request, signed)
    status, body = await signed.api("DELETE", f"/webhooks/{uuid}")
    if status != 204:
        message = (body or {}).get("message", "The webhook was not deleted.")
        return await webhooks(request, signed, error=message)
    return RedirectResponse("/admin/webhooks?message=Webhook+deleted", status_code=303)
