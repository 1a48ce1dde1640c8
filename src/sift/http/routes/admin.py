"""The admin dashboard at /admin: sign-in, indexes, documents, settings, tasks, keys, analytics.

Sign-in takes the master key or an admin key (one granted every action, `*`).
The key never reaches the browser again: the session lives in the database and
the browser holds a random token in an HttpOnly, SameSite=Strict cookie, Secure when
the request came over HTTPS (directly or through a trusted proxy): a browser drops a
Secure cookie set over plain HTTP anywhere but localhost. Failed sign-ins count against
the address's authentication-failure limit, like wrong API keys.
Every form carries the session's synchronizer CSRF token. Pages read and write
through Sift's own HTTP API, called in-process with the signed-in key, so the
dashboard has exactly the rights of that key and reuses every validation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from sift.engine.settings import validate_settings
from sift.errors import RateLimited, SiftError
from sift.http.auth import limits, services
from sift.http.routes.settings import shown
from sift.http.routes.site import ui
from sift.http.throttle import client_address
from sift.insights import Analytics
from sift.ops.keys import ACTIONS
from sift.storage import sessions as session_rows
from sift.storage.analytics import Range
from sift.storage.database import utcnow
from sift.storage.sessions import SessionRecord
from sift.ui import admin_views, charts

router = APIRouter(include_in_schema=False)

COOKIE = "sift_admin"
LOGIN_COOKIE = "sift_login"
SESSION_HOURS = 12
PAGE = 20


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    secure = request.url.scheme == "https"
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/admin",
        secure=secure,
        httponly=True,
        samesite="strict",
    )


class Signed:
    """The signed-in session of a request, and the API credential it stands for."""

    def __init__(self, request: Request, record: SessionRecord) -> None:
        self.request = request
        self.record = record

    @property
    def csrf(self) -> str:
        return self.record.csrf

    def credential(self) -> str | None:
        svc = services(self.request)
        if self.record.principal == "open":
            return None
        if self.record.principal == "master":
            return svc.config.master_key
        found = svc.keys.find(self.record.principal)
        if found is None or "*" not in found.actions:
            raise SiftError("The provided API key is invalid.", "invalid_api_key")
        return svc.keys.key_value(found)

    async def api(self, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        key = await run_in_threadpool(self.credential)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        # From the signed-in browser's address: its calls count against its own limits.
        client = (client_address(self.request.scope), 0)
        import httpx  # the pages' in-process calls: loaded at the first page served

        transport = httpx.ASGITransport(app=self.request.app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://sift.internal") as c:
            response = await c.request(method, url, headers=headers, **kwargs)
        return response.status_code, response.json() if response.content else None


async def signed_in(request: Request) -> Signed | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    svc = services(request)

    def load() -> SessionRecord | None:
        with svc.db.read() as conn:
            return session_rows.get(conn, _digest(token))

    record = await run_in_threadpool(load)
    if record is None or record.expires_at <= utcnow():
        return None
    if record.principal == "open" and svc.config.master_key:
        return None  # a session from an open run does not survive setting a master key
    return Signed(request, record)


async def check_csrf(request: Request, signed: Signed) -> dict[str, str]:
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not hmac.compare_digest(form.get("csrf", ""), signed.csrf):
        raise SiftError("The form expired; reload the page and try again.", "invalid_csrf_token")
    return form


def page(request: Request, template: str, signed: Signed | None, **context: Any) -> Response:
    status = context.pop("status", 200)
    return ui(request).page(
        template,
        status=status,
        csrf=signed.csrf if signed else "",
        path=request.url.path,
        **context,
    )


def to_login() -> Response:
    return RedirectResponse("/admin/login", status_code=303)


class SignInRequired(Exception):
    """A dashboard page asked for without a live session; answered by `to_login`."""


async def _session(request: Request) -> Signed:
    signed = await signed_in(request)
    if signed is None:
        raise SignInRequired
    return signed


# A page's parameter of this type makes it a signed-in page: without a session the
# visitor is sent to the sign-in form (the app maps SignInRequired once).
SignedIn = Annotated[Signed, Depends(_session)]


NO_COOKIE = (
    "Your browser did not send back the sign-in form's cookie, so the form cannot be "
    "checked. Allow cookies for this site, then sign in again. (Behind a reverse proxy: "
    "one that sends `X-Forwarded-Proto: https` for a page served over plain HTTP makes "
    "Sift mark the cookie Secure, and the browser drop it.)"
)


@router.get("/admin/login")
async def login_form(request: Request) -> Response:
    return _login_page(request)


def _login_page(
    request: Request, error: str = "", status: int = 401, headers: dict[str, str] | None = None
) -> Response:
    """The sign-in form with a fresh form token (in a cookie too), and `error` if any."""
    token = secrets.token_urlsafe(32)
    response = page(
        request,
        "admin_login.html",
        None,
        login_token=token,
        error=error,
        open=not services(request).config.master_key,
        status=status if error else 200,
    )
    response.headers.update(headers or {})
    _cookie(request, response, LOGIN_COOKIE, token, 3600)
    return response


@router.post("/admin/login")
async def login(request: Request) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    expected = request.cookies.get(LOGIN_COOKIE)
    if expected is None:
        return _login_page(request, NO_COOKIE)
    if not hmac.compare_digest(form.get("csrf", ""), expected):
        return _login_page(request, "The sign-in form expired; please try again.")
    svc = services(request)
    address = client_address(request.scope)
    key = form.get("key", "").strip()
    principal: str | None = None
    if not svc.config.master_key:
        principal = "open"
    else:
        try:
            await limits(request).check_authentication(address)
        except RateLimited as exc:
            return _login_page(request, exc.message, exc.status, exc.headers)
        if hmac.compare_digest(key.encode(), svc.config.master_key.encode()):
            principal = "master"
        else:
            record = await run_in_threadpool(svc.keys.lookup, key) if key else None
            if record is not None and "*" in record.actions:
                principal = record.uid
    if principal is None:
        await limits(request).authentication_failed(address)
        return _login_page(request, "That key is not the master key or an admin key.")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    record = SessionRecord(
        _digest(token),
        principal,
        secrets.token_urlsafe(32),
        now,
        now + timedelta(hours=SESSION_HOURS),
    )

    def store() -> None:
        with svc.db.write() as conn:
            session_rows.purge_expired(conn, now)
            session_rows.insert(conn, record)

    await run_in_threadpool(store)
    response = RedirectResponse("/admin", status_code=303)
    _cookie(request, response, COOKIE, token, SESSION_HOURS * 3600)
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    return response


@router.post("/admin/logout")
async def logout(request: Request) -> Response:
    signed = await signed_in(request)
    if signed is not None:
        await check_csrf(request, signed)
        svc = services(request)

        def drop() -> None:
            with svc.db.write() as conn:
                session_rows.delete(conn, signed.record.id)

        await run_in_threadpool(drop)
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(COOKIE, path="/admin")
    return response


def _analytics_view(request: Request, days: int) -> dict[str, Any]:
    found: Analytics | None = services(request).analytics
    if found is None or not found.enabled:
        return {"enabled": False}
    end = utcnow()
    span = Range(end - timedelta(days=days), end)
    buckets = found.buckets(span)
    latency = found.latency(span)
    return {
        "enabled": True,
        "days": days,
        "total": sum(b.count for b in buckets),
        "zero": sum(b.zero_results for b in buckets),
        "latency": latency,
        "searches_svg": charts.searches_chart(buckets),
        "latency_svg": charts.latency_chart(buckets),
        "top": found.top(span, 10),
        "zero_queries": found.top(span, 10, zero_only=True),
    }


@router.get("/admin")
async def home(request: Request, signed: SignedIn, days: int = 1) -> Response:
    days = days if days in (1, 7, 30) else 1
    _, indexes = await signed.api("GET", "/indexes", params={"limit": 1000})
    _, stats = await signed.api("GET", "/stats")
    report = await run_in_threadpool(_analytics_view, request, days)
    return page(
        request,
        "admin_home.html",
        signed,
        indexes=indexes.get("results", []),
        stats=(stats or {}).get("indexes", {}),
        report=report,
    )


async def _index_page(
    request: Request,
    signed: Signed,
    index_uid: str,
    offset: int = 0,
    submitted: tuple[str, dict[str, str], dict[str, str], str | None] | None = None,
) -> Response:
    """The index page: documents, then one settings form per group. `submitted` is a form
    sent back with its problems: (group, the texts as typed, message per field, message)."""
    status, index = await signed.api("GET", f"/indexes/{index_uid}")
    if status != 200:
        return page(request, "admin_error.html", signed, message=index["message"], status=status)
    offset = max(0, offset)
    _, docs = await signed.api(
        "GET", f"/indexes/{index_uid}/documents", params={"offset": offset, "limit": PAGE}
    )
    _, settings = await signed.api("GET", f"/indexes/{index_uid}/settings")
    group_key, typed, errors, message = submitted or ("", {}, {}, None)
    values = {
        f.name: typed[f.name]
        if g.key == group_key
        else admin_views.field_text(f, settings.get(f.name))
        for g in admin_views.SETTING_GROUPS
        for f in g.fields
    }
    all_json = orjson.dumps(settings, option=orjson.OPT_INDENT_2).decode()
    return page(
        request,
        "admin_index.html",
        signed,
        index=index,
        docs=[
            admin_views.document_view(d, index.get("primaryKey")) for d in docs.get("results", [])
        ],
        total=docs.get("total") or 0,
        offset=offset,
        per=PAGE,
        groups=admin_views.SETTING_GROUPS,
        values=values,
        settings_json=typed.get("settings", all_json) if group_key == "all" else all_json,
        group=group_key,
        field_errors=errors,
        settings_error=message,
        message=request.query_params.get("message"),
        status=400 if submitted else 200,
    )


@router.get("/admin/indexes/{index_uid}")
async def index_detail(
    request: Request, signed: SignedIn, index_uid: str, offset: int = 0,
) -> Response:
    return await _index_page(request, signed, index_uid, offset)


def _settings_patch(form: dict[str, str]) -> tuple[str, dict[str, Any], dict[str, str], str | None]:
    """The patch one settings form asks for, validated: (group, patch, field errors, error)."""
    key = form.get("group", "all")
    group = admin_views.GROUPS_BY_KEY.get(key)
    if group is None:  # the whole settings object, as JSON
        try:
            return "all", validate_settings(orjson.loads(form.get("settings", ""))), {}, None
        except orjson.JSONDecodeError as exc:
            return "all", {}, {}, f"The settings are not valid JSON: {exc}"
        except SiftError as exc:
            return "all", {}, {}, exc.message
    patch, errors = admin_views.parse_group(group, form)
    if errors:
        return key, {}, errors, "Some settings need fixing."
    try:
        return key, validate_settings(patch), {}, None
    except SiftError as exc:
        field = admin_views.field_of_error(group, exc.code)
        if field is None:
            return key, {}, {}, exc.message
        return key, {}, {field: exc.message}, "Some settings need fixing."


@router.post("/admin/indexes/{index_uid}/settings")
async def save_settings(request: Request, signed: SignedIn, index_uid: str) -> Response:
    form = await check_csrf(request, signed)
    key, patch, errors, error = _settings_patch(form)
    if error is None:
        svc = services(request)
        await run_in_threadpool(signed.credential)  # the signed-in key must still be valid
        task = await run_in_threadpool(
            svc.enqueue, "settingsUpdate", index_uid, shown(patch), {"settings": patch}
        )
        return RedirectResponse(
            f"/admin/tasks?message=Settings+update+enqueued+as+task+{task.uid}", status_code=303
        )
    return await _index_page(request, signed, index_uid, submitted=(key, form, errors, error))


@router.get("/admin/tasks")
async def tasks(request: Request, signed: SignedIn) -> Response:
    _, found = await signed.api("GET", "/tasks", params={"limit": 50})
    return page(
        request,
        "admin_tasks.html",
        signed,
        tasks=found.get("results", []),
        message=request.query_params.get("message"),
        duration=admin_views.duration,
        task_details=admin_views.task_details,
    )


@router.get("/admin/tasks.json")
async def tasks_json(request: Request) -> Response:
    """What the task page polls: the same list, as JSON, behind the session cookie."""
    signed = await signed_in(request)
    if signed is None:
        return Response(status_code=401)
    _, found = await signed.api("GET", "/tasks", params={"limit": 50})
    return Response(
        orjson.dumps(found.get("results", [])),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


NO_MASTER_KEY = (
    "Sift is running without a master key, so there are no API keys: every request is "
    "allowed. Start it with --master-key (or SIFT_MASTER_KEY) to protect the API; the default "
    "search and admin keys are then created."
)


@router.get("/admin/keys")
async def keys(request: Request, signed: SignedIn, message: str = "", error: str = "") -> Response:
    status, found = await signed.api("GET", "/keys", params={"limit": 1000})
    unavailable = None
    if status != 200:
        unavailable = (
            NO_MASTER_KEY if found.get("code") == "missing_master_key" else found.get("message")
        )
    return page(
        request,
        "admin_keys.html",
        signed,
        keys=found.get("results", []) if status == 200 else [],
        unavailable=unavailable,
        action_groups=admin_views.action_groups(list(ACTIONS)),
        presets=admin_views.PRESETS,
        message=message,
        error=error,
        status=400 if error else 200,
    )


@router.post("/admin/keys")
async def create_key(request: Request, signed: SignedIn) -> Response:
    form = await request.form()
    await check_csrf(request, signed)
    # Ticked actions make a custom key; otherwise the chosen preset's actions.
    ticked = [str(a) for a in form.getlist("actions")]
    preset = admin_views.PRESETS.get(str(form.get("preset", "")))
    body: dict[str, Any] = {
        "name": str(form.get("name", "")) or None,
        "description": str(form.get("description", "")) or None,
        "actions": ticked or (preset[1] if preset else []),
        "indexes": [i.strip() for i in str(form.get("indexes", "*")).split(",") if i.strip()],
        "expiresAt": str(form.get("expiresAt", "")) or None,
    }
    status, created = await signed.api("POST", "/keys", json=body)
    if status != 201:
        return await keys(request, signed, error=created.get("message", "The key was not created."))
    name = created.get("name") or created["uid"]
    return await keys(request, signed, message=f"Created key “{name}”: {created['key']}")


@router.get("/admin/keys/{uid}/delete")
async def confirm_delete_key(request: Request, signed: SignedIn, uid: str) -> Response:
    """Deleting a key breaks whatever uses it: a page that says so before anything happens."""
    status, key = await signed.api("GET", f"/keys/{uid}")
    if status != 200:
        return page(request, "admin_error.html", signed, message=key["message"], status=status)
    public = key.get("name") == "Default Search API Key"
    return page(request, "admin_key_delete.html", signed, key=key, public=public)


@router.post("/admin/keys/{uid}/delete")
async def delete_key(request: Request, signed: SignedIn, uid: str) -> Response:
    await check_csrf(request, signed)
    status, body = await signed.api("DELETE", f"/keys/{uid}")
    if status != 204:
        return await keys(request, signed, error=(
            (body or {}).get("message", "The key was not deleted.")
        ))
    return RedirectResponse("/admin/keys?message=Key+deleted", status_code=303)
