"""The dashboard's search rules page: list, create, edit, delete and switch rules on or
off through the /dynamic-search-rules API, as the signed-in session's credential
(sessions and CSRF: routes/admin.py; the form's text format: sift.ui.rules_form)."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote_plus

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from sift.http.routes.admin import Signed, SignedIn, check_csrf, page
from sift.rules import FEATURE
from sift.ui import rules_form

router = APIRouter(include_in_schema=False)
LIST = "/admin/rules"
TASK_WAIT = 3.0  # seconds a save waits for its task, so the list shows the change


async def _finished(signed: Signed, answer: dict[str, Any]) -> str:
    """Wait a moment for a rule task; the outcome in words."""
    uid = answer.get("taskUid")
    deadline = time.monotonic() + TASK_WAIT
    while uid is not None and time.monotonic() < deadline:
        _, task = await signed.api("GET", f"/tasks/{uid}")
        if task.get("status") == "succeeded":
            return "done"
        if task.get("status") in ("failed", "canceled"):
            return f"task {uid} {task['status']}: {(task.get('error') or {}).get('message', '')}"
        await asyncio.sleep(0.05)
    return f"task {uid} is still running; the list shows the change once it is done"


def _back(message: str) -> Response:
    return RedirectResponse(f"{LIST}?message={quote_plus(message)}", status_code=303)


@router.get(LIST)
async def rules(request: Request, signed: SignedIn, message: str = "", error: str = "") -> Response:
    status, found = await signed.api("POST", "/dynamic-search-rules", json={"limit": 1000})
    off = status == 400 and found.get("code") == "feature_not_enabled"
    results = found.get("results", []) if status == 200 else []
    listed = [(r, *rules_form.summary(r)) for r in results]
    return page(request, "admin_rules.html", signed, rules=listed, off=off,
                unavailable=None if status == 200 or off else found.get("message"),
                total=found.get("total", 0) if status == 200 else 0,
                message=message, error=error)


@router.post(LIST + "/enable")
async def enable(request: Request, signed: SignedIn) -> Response:
    await check_csrf(request, signed)
    status, body = await signed.api("PATCH", "/experimental-features", json={FEATURE: True})
    if status != 200:
        return await rules(request, signed, error=(
            body.get("message", "Search rules were not enabled.")
        ))
    return _back("Search rules are on.")


async def _form(request: Request, signed: Signed, fields: dict[str, str], editing: bool,
                error: str = "", status: int = 200) -> Response:
    return page(request, "admin_rule_form.html", signed, f=fields, editing=editing,
                error=error, status=status)


@router.get(LIST + "/new")
async def new_rule(request: Request, signed: SignedIn) -> Response:
    return await _form(request, signed, rules_form.fields_of(None), editing=False)


@router.get(LIST + "/{uid}")
async def edit_rule(request: Request, signed: SignedIn, uid: str) -> Response:
    status, rule = await signed.api("GET", f"/dynamic-search-rules/{quote_plus(uid)}")
    if status != 200:
        return await rules(request, signed, error=rule.get("message", "No such rule."))
    return await _form(request, signed, rules_form.fields_of(rule), editing=True)


@router.post(LIST)
async def save_rule(request: Request, signed: SignedIn) -> Response:
    form = await check_csrf(request, signed)
    editing = form.get("editing") == "1"
    uid = form.get("uid", "").strip()
    try:
        body = rules_form.body_of(form)
    except ValueError as exc:
        return await _form(request, signed, form, editing, str(exc), status=400)
    if not uid:
        return await _form(request, signed, form, editing, "Give the rule an ID.", status=400)
    status, answer = await signed.api("PATCH", f"/dynamic-search-rules/{quote_plus(uid)}",
                                      json=body)
    if status != 202:
        message = answer.get("message", "The rule was not saved.")
        return await _form(request, signed, form, editing, message, status=400)
    outcome = await _finished(signed, answer)
    return _back(f"Saved rule {uid}." if outcome == "done" else f"Rule {uid}: {outcome}.")


@router.post(LIST + "/{uid}/active")
async def switch_rule(request: Request, signed: SignedIn, uid: str) -> Response:
    form = await check_csrf(request, signed)
    active = form.get("active") == "true"
    status, answer = await signed.api("PATCH", f"/dynamic-search-rules/{quote_plus(uid)}",
                                      json={"active": active})
    if status != 202:
        return await rules(request, signed, error=(
            answer.get("message", "The rule was not changed.")
        ))
    outcome = await _finished(signed, answer)
    state = "on" if active else "off"
    return _back(f"Rule {uid} is {state}." if outcome == "done" else f"Rule {uid}: {outcome}.")


@router.post(LIST + "/{uid}/delete")
async def delete_rule(request: Request, signed: SignedIn, uid: str) -> Response:
    await check_csrf(request, signed)
    status, answer = await signed.api("DELETE", f"/dynamic-search-rules/{quote_plus(uid)}")
    if status != 202:
        return await rules(request, signed, error=(
            answer.get("message", "The rule was not deleted.")
        ))
    outcome = await _finished(signed, answer)
    return _back(f"Deleted rule {uid}." if outcome == "done" else f"Rule {uid}: {outcome}.")
