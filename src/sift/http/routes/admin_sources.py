"""The dashboard's sources page: state, progress, lag and row errors of each sync source,
and a re-snapshot button, through the /sources API as the signed-in session's credential
(sessions and CSRF: routes/admin.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from sift.http.routes.admin import SignedIn, check_csrf, page

router = APIRouter(include_in_schema=False)


@router.get("/admin/sources")
async def sources(
    request: Request, signed: SignedIn, message: str = "", error: str = "",
) -> Response:
    status, found = await signed.api("GET", "/sources")
    views = found.get("results", []) if status == 200 else []
    for view in views:
        _, detail = await signed.api("GET", f"/sources/{view['name']}")
        view["recentRowErrors"] = (detail or {}).get("recentRowErrors", [])
    return page(
        request,
        "admin_sources.html",
        signed,
        sources=views,
        unavailable=None if status == 200 else found.get("message"),
        message=message,
        error=error,
    )


@router.post("/admin/sources/{name}/resnapshot")
async def resnapshot(request: Request, signed: SignedIn, name: str) -> Response:
    await check_csrf(request, signed)
    status, body = await signed.api("POST", f"/sources/{name}/resnapshot")
    if status != 202:
        return await sources(request, signed, error=(
            (body or {}).get("message", "Not re-snapshotted.")
        ))
    return RedirectResponse(
        f"/admin/sources?message=Source+{name}+will+be+snapshotted+again", status_code=303
    )
