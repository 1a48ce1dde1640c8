"""/keys: API key management (needs the master key or a key with keys.* actions)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sift.errors import SiftError
from sift.http.auth import guard, services
from sift.http.responses import (
    JSONResponse,
    check_fields,
    check_params,
    int_param,
    json_body,
    require_object,
    wrong_type,
)
from sift.http.schemas import doc, requests, responses
from sift.inputs import shown
from sift.ops.keys import ACTIONS, Principal, parse_expiry
from sift.storage import keys as key_rows
from sift.storage.database import utcnow
from sift.storage.keys import KeyRecord
from sift.tasks.views import rfc3339

router = APIRouter(tags=["Keys"])
INDEX_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,400}\*?|\*")  # fullmatch
FIELDS = ("actions", "indexes", "expiresAt", "name", "description", "uid")


def key_view(svc: Any, record: KeyRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "description": record.description,
        "key": svc.keys.key_value(record),
        "uid": record.uid,
        "actions": record.actions,
        "indexes": record.indexes,
        "expiresAt": rfc3339(record.expires_at),
        "createdAt": rfc3339(record.created_at),
        "updatedAt": rfc3339(record.updated_at),
    }


def _text(body: dict[str, Any], name: str, code: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise wrong_type(name, "a string", value, code)
    return value


def _actions(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise wrong_type("actions", "an array", value, "invalid_api_key_actions")
    for position, action in enumerate(value):
        if action not in ACTIONS:
            listed = ", ".join(f"`{a}`" for a in ACTIONS)
            raise SiftError(
                f"Unknown value `{action}` at `.actions[{position}]`: expected one of {listed}",
                "invalid_api_key_actions",
            )
    return list(dict.fromkeys(value))


def _indexes(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise wrong_type("indexes", "an array", value, "invalid_api_key_indexes")
    for position, pattern in enumerate(value):
        if not isinstance(pattern, str) or not INDEX_PATTERN.fullmatch(pattern):
            raise SiftError(
                f"Invalid value at `.indexes[{position}]`: `{shown(pattern)}` is not a valid "
                "index uid pattern. Index uid patterns can be an integer or a string containing "
                "only alphanumeric characters, hyphens (-) and underscores (_), optionally "
                "ending with a *.",
                "invalid_api_key_indexes",
            )
    return list(value)


def _expires(value: Any) -> Any:
    if value is None:
        return None
    error = SiftError(
        f"`{value}` is not a valid date. It should follow the RFC 3339 format to represents a "
        "date or datetime in the future or specified as a null value. e.g. 'YYYY-MM-DD' or "
        "'YYYY-MM-DD HH:MM:SS'.",
        "invalid_api_key_expires_at",
    )
    if not isinstance(value, str):
        raise error
    try:
        when = parse_expiry(value)
    except ValueError:
        raise error from None
    if when <= utcnow():
        raise error
    return when


@router.get("/keys", summary="List API keys", **doc(responses.KeyPage))
async def list_keys(request: Request, _: Principal = Depends(guard("keys.get"))) -> JSONResponse:
    params = request.query_params
    check_params(params, ("offset", "limit"))
    offset = int_param(params, "offset", 0, "invalid_api_key_offset")
    limit = int_param(params, "limit", 20, "invalid_api_key_limit")
    svc = services(request)

    def load() -> list[KeyRecord]:
        with svc.db.read() as conn:
            return key_rows.all_records(conn)

    records = await run_in_threadpool(load)
    page = [key_view(svc, r) for r in records[offset : offset + limit]]
    return JSONResponse({"results": page, "offset": offset, "limit": limit, "total": len(records)})


@router.post(
    "/keys",
    summary="Create an API key",
    status_code=201,
    **doc(responses.Key, requests.KeyCreate, status=201),
)
async def create_key(
    request: Request, _: Principal = Depends(guard("keys.create"))
) -> JSONResponse:
    body = require_object(await json_body(request))
    check_fields(body, FIELDS)
    for name, code in (
        ("actions", "missing_api_key_actions"),
        ("indexes", "missing_api_key_indexes"),
        ("expiresAt", "missing_api_key_expires_at"),
    ):
        if name not in body:
            raise SiftError(f"Missing field `{name}`", code)
    actions = _actions(body["actions"])
    indexes = _indexes(body["indexes"])
    expires_at = _expires(body["expiresAt"])
    name = _text(body, "name", "invalid_api_key_name")
    description = _text(body, "description", "invalid_api_key_description")
    uid = body.get("uid")
    if uid is None:
        uid = str(uuid.uuid4())
    else:
        try:
            uid = str(uuid.UUID(str(uid)))
        except ValueError:
            raise SiftError(
                f"Invalid value at `.uid`: invalid character: expected an optional prefix of "
                f"`urn:uuid:` followed by [0-9a-fA-F-], found `{uid}`",
                "invalid_api_key_uid",
            ) from None
    svc = services(request)

    def create() -> KeyRecord:
        now = utcnow()
        record = KeyRecord(uid, name, description, actions, indexes, expires_at, now, now)
        with svc.db.write() as conn:
            if key_rows.get(conn, uid) is not None:
                raise SiftError(
                    f"`uid` field value `{uid}` is already an existing API key.",
                    "api_key_already_exists",
                )
            key_rows.insert(conn, record)
        svc.keys.refresh()
        return record

    return JSONResponse(key_view(svc, await run_in_threadpool(create)), status_code=201)


def _find(svc: Any, key_or_uid: str) -> KeyRecord:
    record = svc.keys.find(key_or_uid)
    if record is None:
        raise SiftError(f"API key `{key_or_uid}` not found.", "api_key_not_found")
    return record


@router.get("/keys/{key}", summary="Get an API key", **doc(responses.Key))
async def get_key(
    request: Request, key: str, _: Principal = Depends(guard("keys.get"))
) -> JSONResponse:
    svc = services(request)
    return JSONResponse(key_view(svc, await run_in_threadpool(_find, svc, key)))


@router.patch(
    "/keys/{key}",
    summary="Update an API key's name or description",
    **doc(responses.Key, requests.KeyUpdate),
)
async def update_key(
    request: Request, key: str, _: Principal = Depends(guard("keys.update"))
) -> JSONResponse:
    body = require_object(await json_body(request))
    for name in ("uid", "key", "actions", "indexes", "expiresAt", "createdAt", "updatedAt"):
        if name in body:
            code = "immutable_api_key_" + re.sub(r"([A-Z])", r"_\1", name).lower()
            raise SiftError(
                f"Immutable field `{name}`: expected one of `name`, `description`", code
            )
    check_fields(body, ("name", "description"))
    values = {}
    for name, code in (
        ("name", "invalid_api_key_name"),
        ("description", "invalid_api_key_description"),
    ):
        if name in body:
            values[name] = _text(body, name, code)
    svc = services(request)

    def update() -> KeyRecord:
        record = _find(svc, key)
        with svc.db.write() as conn:
            key_rows.update(conn, record.uid, updated_at=utcnow(), **values)
            updated = key_rows.get(conn, record.uid)
        assert updated is not None
        svc.keys.refresh()  # verified keys are cached with their record
        return updated

    return JSONResponse(key_view(svc, await run_in_threadpool(update)))


@router.delete("/keys/{key}", summary="Delete an API key", status_code=204, **doc(status=204))
async def delete_key(
    request: Request, key: str, _: Principal = Depends(guard("keys.delete"))
) -> Response:
    svc = services(request)

    def delete() -> None:
        record = _find(svc, key)
        with svc.db.write() as conn:
            key_rows.delete(conn, record.uid)
        svc.keys.refresh()

    await run_in_threadpool(delete)
    return Response(status_code=204)
