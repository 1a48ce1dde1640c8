"""JSON in and out, with Meilisearch's errors for bad bodies and parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

from sift.errors import SiftError
from sift.http.encoding import read_body

INDEX_UID = re.compile(r"^[A-Za-z0-9_-]{1,400}$")


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def error_response(error: SiftError) -> JSONResponse:
    """A SiftError in Meilisearch's format: `{message, code, type, link}`, its status, headers."""
    return JSONResponse(error.to_dict(), status_code=error.status, headers=error.headers)


def accepted(summary: dict[str, Any]) -> JSONResponse:
    return JSONResponse(summary, status_code=202)


async def json_body(request: Request, *, required: bool = True) -> Any:
    """The request's JSON body (decoded per Content-Encoding); Content-Type must say JSON."""
    config = getattr(getattr(request.app.state, "services", None), "config", None)
    raw = await read_body(request, getattr(config, "max_payload_bytes", None))
    if not raw.strip():
        if required:
            raise SiftError("A json payload is missing.", "missing_payload")
        return None
    content_type = request.headers.get("content-type")
    if content_type is None:
        raise SiftError(
            "A Content-Type header is missing. Accepted values for the Content-Type header "
            "are: `application/json`",
            "missing_content_type",
        )
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise SiftError(
            f"The Content-Type `{content_type}` is invalid. Accepted values for the "
            "Content-Type header are: `application/json`",
            "invalid_content_type",
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise SiftError(
            f"The json payload provided is malformed. `{exc}`.", "malformed_payload"
        ) from None


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a positive integer" if isinstance(value, int) and value >= 0 else "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def wrong_type(field: str, expected: str, value: Any, code: str) -> SiftError:
    return SiftError(
        f"Invalid value type at `.{field}`: expected {expected}, but found "
        f"{json_kind(value)}: `{orjson.dumps(value).decode()}`",
        code,
    )


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SiftError(
            f"Invalid value type: expected an object, but found {json_kind(body)}: "
            f"`{orjson.dumps(body).decode()}`",
            "bad_request",
        )
    return body


def check_fields(body: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in body:
        if key not in allowed:
            listed = ", ".join(f"`{a}`" for a in allowed)
            raise SiftError(f"Unknown field `{key}`: expected one of {listed}", "bad_request")


def check_params(params: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    for key in params:
        if key not in allowed:
            listed = ", ".join(f"`{a}`" for a in allowed)
            raise SiftError(f"Unknown parameter `{key}`: expected one of {listed}", "bad_request")


def custom_metadata(params: Mapping[str, str]) -> dict[str, str]:
    """The `customMetadata` query parameter as task params; tasks echo it back to clients."""
    value = params.get("customMetadata")
    return {} if value is None else {"customMetadata": value}


def int_param(params: Mapping[str, str], name: str, default: int, code: str) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise SiftError(
            f"Invalid value in parameter `{name}`: could not parse `{raw}` as a positive integer",
            code,
        )
    return int(raw)


def validate_index_uid(uid: Any, code: str = "invalid_index_uid") -> str:
    if not isinstance(uid, str) or not INDEX_UID.match(uid):
        shown = uid if isinstance(uid, str) else orjson.dumps(uid).decode()
        raise SiftError(
            f"`{shown}` is not a valid index uid. Index uid can be an integer or a string "
            "containing only alphanumeric characters, hyphens (-) and underscores (_), and can "
            "not be more than 512 bytes.",
            code,
        )
    return uid
