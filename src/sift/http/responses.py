"""JSON in and out, with Meilisearch's errors for bad bodies and parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

from sift.errors import SiftError
from sift.http.body import whole_body
from sift.http.headers import header
from sift.inputs import (
    INDEX_UID,
    INDEX_UID_RULE,
    USIZE,
    TooDeep,
    check_depth,
    kind_of,
    shown,
    uint_param,
)

JSON_TYPE = (b"content-type", b"application/json")


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """orjson's JSON of ``content``; a dict key that is not a string (a number, say) is
        written as orjson's OPT_NON_STR_KEYS writes it. Without that option orjson writes
        the same bytes for string keys ~3x faster (a search answer of ten ids: 1.4 -> 0.5
        µs), so it is asked for only when a key needs it (orjson then refuses the
        content)."""
        try:
            return orjson.dumps(content)
        except orjson.JSONEncodeError:
            return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        """Starlette's headers: the length, then the type; built directly for an answer
        with a body, no headers of its own and the class's type (Starlette's general
        case then gives the same two)."""
        if headers is None and self.media_type == "application/json" and (
            self.status_code >= 200 and self.status_code not in (204, 304)
        ):  # fmt: skip
            self.raw_headers = [(b"content-length", b"%d" % len(self.body)), JSON_TYPE]
        else:
            super().init_headers(headers)


def error_response(error: SiftError) -> JSONResponse:
    """A SiftError in Meilisearch's format: `{message, code, type, link}`, its status, headers."""
    return JSONResponse(error.to_dict(), status_code=error.status, headers=error.headers)


def accepted(summary: dict[str, Any]) -> JSONResponse:
    return JSONResponse(summary, status_code=202)


async def json_body(request: Request, *, required: bool = True) -> Any:
    """The request's JSON body (decoded per Content-Encoding); Content-Type must say JSON."""
    config = getattr(getattr(request.app.state, "services", None), "config", None)
    raw = await whole_body(request, getattr(config, "max_payload_bytes", None))
    if not raw.strip():
        if required:
            raise SiftError("A json payload is missing.", "missing_payload")
        return None
    content_type = header(request.scope, b"content-type")
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
        check_depth(raw)  # before parsing: a parser pays for depth before it can refuse it
        return orjson.loads(raw)
    except TooDeep as exc:
        raise SiftError(
            f"The json payload provided is malformed. `{exc} at byte {exc.offset}`.",
            "malformed_payload",
        ) from None
    except orjson.JSONDecodeError as exc:
        raise SiftError(
            f"The json payload provided is malformed. `{exc}`.", "malformed_payload"
        ) from None


def wrong_type(field: str, expected: str, value: Any, code: str) -> SiftError:
    return SiftError(
        f"Invalid value type at `.{field}`: expected {expected}, but found "
        f"{kind_of(value)}: `{shown(value)}`",
        code,
    )


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SiftError(
            f"Invalid value type: expected an object, but found {kind_of(body)}: "
            f"`{shown(body)}`",
            "bad_request",
        )
    return body


def check_fields(body: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in body:
        if key not in allowed:
            listed = ", ".join(f"`{a}`" for a in allowed)
            raise SiftError(
                f"Unknown field `{shown(key)}`: expected one of {listed}", "bad_request"
            )


def check_params(params: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    for key in params:
        if key not in allowed:
            listed = ", ".join(f"`{a}`" for a in allowed)
            raise SiftError(
                f"Unknown parameter `{shown(key)}`: expected one of {listed}", "bad_request"
            )


def custom_metadata(params: Mapping[str, str]) -> dict[str, str]:
    """The `customMetadata` query parameter as task params; tasks echo it back to clients."""
    value = params.get("customMetadata")
    return {} if value is None else {"customMetadata": value}


def int_param(
    params: Mapping[str, str], name: str, default: int, code: str, maximum: int = USIZE
) -> int:
    """A query-string integer (Meilisearch's `usize` unless told otherwise)."""
    raw = params.get(name)
    return default if raw is None else uint_param(name, raw, maximum, code)


# Index uids already found valid: a search checks its index's uid on every request, and
# a set lookup is cheaper than the regular expression (issue #18). Only valid uids are
# kept, at most _VALID_UIDS_MAX (then emptied): an invalid one is always refused anew.
_VALID_UIDS: set[str] = set()
_VALID_UIDS_MAX = 4096


def validate_index_uid(uid: Any, code: str = "invalid_index_uid") -> str:
    if type(uid) is str and uid in _VALID_UIDS:  # (a list or dict is unhashable)
        return uid
    if not isinstance(uid, str) or not INDEX_UID.fullmatch(uid):
        raise SiftError(f"`{shown(uid)}` is not a valid index uid. {INDEX_UID_RULE}", code)
    if len(_VALID_UIDS) >= _VALID_UIDS_MAX:
        _VALID_UIDS.clear()
    _VALID_UIDS.add(uid)
    return uid
