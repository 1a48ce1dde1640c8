"""Task query parameters (GET /tasks, cancel, delete) parsed with Meilisearch's errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from sift.errors import SiftError
from sift.inputs import INDEX_UID, INDEX_UID_RULE, U32, shown, uint_param
from sift.storage.tasks import TaskFilter

STATUSES = ("enqueued", "processing", "succeeded", "failed", "canceled")
TYPES = (
    "documentAdditionOrUpdate",
    "documentEdition",
    "documentDeletion",
    "settingsUpdate",
    "indexCreation",
    "indexDeletion",
    "indexUpdate",
    "indexSwap",
    "indexCompaction",
    "taskCancelation",
    "taskDeletion",
    "dumpCreation",
    "snapshotCreation",
    "export",
    "upgradeDatabase",
    "dsrUpdate",  # search rules (sift.rules)
    "dsrClear",
    "networkTopologyChange",  # the leader's moves after a /network change (tasks/topology.py)
)
DATE_PARAMS = (
    "beforeEnqueuedAt",
    "afterEnqueuedAt",
    "beforeStartedAt",
    "afterStartedAt",
    "beforeFinishedAt",
    "afterFinishedAt",
)
FILTER_PARAMS = ("uids", "batchUids", "canceledBy", "types", "statuses", "indexUids", *DATE_PARAMS)


def _code(param: str) -> str:
    if param in DATE_PARAMS:
        snake = re.sub(r"([A-Z])", r"_\1", param).lower()
        return f"invalid_task_{snake}"
    return {
        "uids": "invalid_task_uids",
        "batchUids": "invalid_task_uids",
        "canceledBy": "invalid_task_canceled_by",
        "types": "invalid_task_types",
        "statuses": "invalid_task_statuses",
        "indexUids": "invalid_task_index_uids",
        "limit": "invalid_task_limit",
        "from": "invalid_task_from",
        "reverse": "invalid_task_reverse",
    }[param]


def _values(raw: str) -> list[str] | None:
    items = [v.strip() for v in raw.split(",")]
    return None if "*" in items else items


def _integers(param: str, raw: str) -> list[int] | None:
    items = _values(raw)
    if items is None:
        return None
    return [uint_param(param, item, U32, _code(param)) for item in items]


def _choices(param: str, raw: str, allowed: tuple[str, ...], what: str) -> list[str] | None:
    items = _values(raw)
    if items is None:
        return None
    for item in items:
        if item not in allowed:
            listed = ", ".join(f"`{a}`" for a in allowed)
            raise SiftError(
                f"Invalid value in parameter `{param}`: `{item}` is not a valid task {what}. "
                f"Available {what}s are {listed}.",
                _code(param),
            )
    return items


def _date(param: str, raw: str) -> datetime:
    text = raw.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            when = datetime.fromisoformat(text).replace(tzinfo=UTC)
            # A bare date means the whole day: "before" its start, "after" its end.
            if param.startswith("after"):
                when = when.replace(hour=23, minute=59, second=59, microsecond=999999)
        else:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if when.tzinfo is None:
                raise ValueError(text)
    except ValueError:
        raise SiftError(
            f"Invalid value in parameter `{param}`: `{raw}` is an invalid date-time. It should "
            "follow the YYYY-MM-DD or RFC 3339 date-time format.",
            _code(param),
        ) from None
    return when.astimezone(UTC).replace(tzinfo=None)


def task_filter_from_params(params: Mapping[str, str]) -> TaskFilter:
    flt = TaskFilter()
    for param, raw in params.items():
        if param in ("uids", "batchUids", "canceledBy"):
            values = _integers(param, raw)
            attr = {"uids": "uids", "batchUids": "batch_uids", "canceledBy": "canceled_by"}[param]
            setattr(flt, attr, values)
        elif param == "statuses":
            flt.statuses = _choices(param, raw, STATUSES, "status")
        elif param == "types":
            flt.types = _choices(param, raw, TYPES, "type")
        elif param == "indexUids":
            uids = _values(raw)
            for uid in uids or []:
                if not INDEX_UID.fullmatch(uid):
                    raise SiftError(
                        f"Invalid value in parameter `indexUids`: `{shown(uid)}` is not a valid "
                        f"index uid. {INDEX_UID_RULE}",
                        "invalid_index_uid",
                    )
            flt.index_uids = uids
        elif param in DATE_PARAMS and raw.strip() != "*":  # `*`: no bound
            flt.dates[param] = _date(param, raw)
    return flt


def check_known(params: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    for param in params:
        if param not in allowed:
            listed = ", ".join(f"`{a}`" for a in allowed)
            raise SiftError(
                f"Unknown parameter `{shown(param)}`: expected one of {listed}", "bad_request"
            )


def parse_int(param: str, raw: str | None, default: int | None) -> int | None:
    """`limit` and `from`: Meilisearch's `u32`, as task and batch uids are."""
    return default if raw is None else uint_param(param, raw.strip(), U32, _code(param))


def parse_listing(params: dict[str, str]) -> tuple[TaskFilter, int, int | None, bool]:
    """GET /tasks and GET /batches parameters: the filter, `limit`, `from` and `reverse`."""
    check_known(params, (*FILTER_PARAMS, "limit", "from", "reverse"))
    params = dict(params)
    limit = parse_int("limit", params.pop("limit", None), 20) or 0
    from_uid = parse_int("from", params.pop("from", None), None)
    reverse = params.pop("reverse", "false").lower()
    if reverse not in ("true", "false"):
        raise SiftError(
            f"Invalid value in parameter `reverse`: could not parse `{reverse}` as a boolean.",
            "invalid_task_reverse",
        )
    return task_filter_from_params(params), limit, from_uid, reverse == "true"
