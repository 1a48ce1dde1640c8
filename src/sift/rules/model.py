"""The search rule object of Meilisearch's /dynamic-search-rules, validated.

A PATCH body is checked whole before its task is enqueued (a bad one gets a 400 and
changes nothing); the task then merges it into the stored rule (:func:`merged`). Every
field a PATCH leaves out keeps its value; ``null`` resets it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Final

from sift.engine.filters import parse_filter
from sift.errors import SiftError
from sift.inputs import INDEX_UID, INDEX_UID_RULE, SQL_BIGINT, kind_of, shown, uint_field

FIELDS: Final = ("description", "precedence", "active", "conditions", "actions")
CONDITIONS: Final = ("query", "time")
ACTIONS: Final = ("pin", "scale")
PIN_FIELDS: Final = ("id", "position", "indexUid")
SCALE_FIELDS: Final = ("weight", "ids", "filter", "indexUid")
MAX_UID_BYTES: Final = 512


def _code(name: str) -> str:
    return f"invalid_dynamic_search_rule_{name}"


def _wrong(path: str, expected: str, value: Any, code: str) -> SiftError:
    return SiftError(
        f"Invalid value type at `.{path}`: expected {expected}, but found "
        f"{kind_of(value)}: `{shown(value)}`",
        code,
    )


def _only(path: str, body: dict[str, Any], allowed: tuple[str, ...], code: str) -> None:
    for key in body:
        if key not in allowed:
            listed = ", ".join(f"`{a}`" for a in allowed)
            where = f" inside `.{path}`" if path else ""
            raise SiftError(f"Unknown field `{shown(key)}`{where}: expected one of {listed}",
                            code)


def _object(path: str, value: Any, allowed: tuple[str, ...], code: str) -> dict[str, Any]:
    """``value`` as an object holding only ``allowed`` fields, or the error naming ``path``."""
    if not isinstance(value, dict):
        raise _wrong(path, "an object", value, code)
    _only(path, value, allowed, code)
    return value


def check_uid(uid: str) -> str:
    if not uid or len(uid.encode()) > MAX_UID_BYTES or not all(
        c.isascii() and (c.isalnum() or c in "-_") for c in uid
    ):
        raise SiftError(
            f"`{shown(uid)}` is not a valid dynamic search rule uid. A rule uid can contain "
            "only alphanumeric characters, hyphens (-) and underscores (_), and can not be "
            f"more than {MAX_UID_BYTES} bytes.",
            _code("uid"),
        )
    return uid


def parse_time(path: str, value: Any) -> datetime:
    """An RFC 3339 date-time (UTC when it names no offset)."""
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            pass
        else:
            return when if when.tzinfo else when.replace(tzinfo=UTC)
    raise SiftError(
        f"Invalid value at `.{path}`: `{shown(value)}` is not an RFC 3339 date-time, such as "
        "`2026-11-27T00:00:00Z`.",
        _code("conditions"),
    )


def _conditions(value: Any) -> dict[str, Any]:
    code = _code("conditions")
    if value is None:
        return {"query": None, "time": None}
    if not isinstance(value, dict):
        raise _wrong("conditions", "an object", value, code)
    if "filter" in value:
        raise SiftError("Sift has no `conditions.filter`: a rule matches on `query` and "
                        "`time`.", code)
    _only("conditions", value, CONDITIONS, code)
    out: dict[str, Any] = {"query": None, "time": None}
    query = value.get("query")
    if query is not None:
        query = _object("conditions.query", query, ("isEmpty", "words"), code)
        is_empty, words = query.get("isEmpty"), query.get("words")
        if is_empty is not None and not isinstance(is_empty, bool):
            raise _wrong("conditions.query.isEmpty", "a boolean", is_empty, code)
        if words is not None and not isinstance(words, str):
            raise _wrong("conditions.query.words", "a string", words, code)
        if is_empty is True and words is not None:
            raise SiftError("`conditions.query.isEmpty: true` cannot be combined with "
                            "`conditions.query.words`: an empty query has no words.", code)
        out["query"] = {"isEmpty": is_empty, "words": words}
    window = value.get("time")
    if window is not None:
        window = _object("conditions.time", window, ("start", "end"), code)
        bounds = {k: window.get(k) for k in ("start", "end")}
        parsed = {k: parse_time(f"conditions.time.{k}", v) for k, v in bounds.items()
                  if v is not None}
        if len(parsed) == 2 and parsed["start"] > parsed["end"]:
            raise SiftError("`conditions.time.start` must not be after `conditions.time.end`.",
                            code)
        out["time"] = bounds
    return out


def _index_uid(path: str, value: Any, code: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not INDEX_UID.fullmatch(value):
        raise SiftError(f"Invalid value at `.{path}`: `{shown(value)}` is not a valid index "
                        f"uid. {INDEX_UID_RULE}", code)
    return value


def _pin(i: int, item: Any, code: str) -> dict[str, Any]:
    path = f"actions.pin[{i}]"
    item = _object(path, item, PIN_FIELDS, code)
    doc_id = item.get("id")
    if not isinstance(doc_id, str) or not doc_id:
        raise _wrong(f"{path}.id", "a document id (a non-empty string)", doc_id, code)
    if "position" not in item:
        raise SiftError(f"Missing field `position` inside `.{path}`", code)
    position = uint_field(f"{path}.position", item["position"], SQL_BIGINT, code)
    return {"id": doc_id, "position": position,
            "indexUid": _index_uid(f"{path}.indexUid", item.get("indexUid"), code)}


def _scale(i: int, item: Any, code: str) -> dict[str, Any]:
    path = f"actions.scale[{i}]"
    item = _object(path, item, SCALE_FIELDS, code)
    weight = item.get("weight")
    if (isinstance(weight, bool) or not isinstance(weight, int | float)
            or not math.isfinite(weight) or weight < 0):
        raise _wrong(f"{path}.weight", "a number greater than or equal to 0", weight, code)
    ids = item.get("ids")
    if ids is not None and (not isinstance(ids, list)
                            or not all(isinstance(d, str) and d for d in ids)):
        raise _wrong(f"{path}.ids", "an array of document ids (strings)", ids, code)
    filter_expr = item.get("filter")
    if filter_expr is not None:
        if not isinstance(filter_expr, str | list):
            raise _wrong(f"{path}.filter", "a string or an array", filter_expr, code)
        parse_filter(filter_expr, code)  # syntax now; attributes when it applies
    return {"weight": float(weight), "ids": ids, "filter": filter_expr,
            "indexUid": _index_uid(f"{path}.indexUid", item.get("indexUid"), code)}


def _actions(value: Any) -> dict[str, list[dict[str, Any]]]:
    code = _code("actions")
    if value is None:
        return {"pin": [], "scale": []}
    if not isinstance(value, dict):
        raise _wrong("actions", "an object with `pin` and `scale` arrays", value, code)
    _only("actions", value, ACTIONS, code)
    out: dict[str, list[dict[str, Any]]] = {}
    for name, check in (("pin", _pin), ("scale", _scale)):
        items = value.get(name)
        if items is None:
            items = []
        if not isinstance(items, list):
            raise _wrong(f"actions.{name}", "an array", items, code)
        out[name] = [check(i, item, code) for i, item in enumerate(items)]
    return out


def parse_patch(body: Any) -> dict[str, Any]:
    """The validated fields of a PATCH body (absent fields stay absent)."""
    if not isinstance(body, dict):
        raise SiftError(f"Invalid value type: expected an object, but found {kind_of(body)}: "
                        f"`{shown(body)}`", "bad_request")
    _only("", body, FIELDS, "bad_request")
    out: dict[str, Any] = {}
    if "description" in body:
        value = body["description"]
        if value is not None and not isinstance(value, str):
            raise _wrong("description", "a string", value, _code("description"))
        out["description"] = value
    if "precedence" in body:
        value = body["precedence"]
        out["precedence"] = None if value is None else uint_field(
            "precedence", value, SQL_BIGINT, _code("precedence"))
    if "active" in body:
        value = body["active"]
        if value is not None and not isinstance(value, bool):
            raise _wrong("active", "a boolean", value, _code("active"))
        out["active"] = value
    if "conditions" in body:
        out["conditions"] = _conditions(body["conditions"])
    if "actions" in body:
        out["actions"] = _actions(body["actions"])
    return out


def merged(uid: str, current: dict[str, Any] | None, patch: dict[str, Any],
           updated_at: str) -> dict[str, Any]:
    """The rule after a validated PATCH: given fields replace, ``null`` resets."""
    rule: dict[str, Any] = current or new_rule(uid)
    rule = {**rule, **patch, "uid": uid, "lastUpdatedAt": updated_at}
    if rule.get("active") is None:
        rule["active"] = True
    return rule


def new_rule(uid: str) -> dict[str, Any]:
    return {
        "uid": uid,
        "description": None,
        "precedence": None,
        "active": True,
        "conditions": {"query": None, "time": None},
        "actions": {"pin": [], "scale": []},
        "lastUpdatedAt": None,
    }
