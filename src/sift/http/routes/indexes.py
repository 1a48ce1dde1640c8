"""/indexes and /swap-indexes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from sift.errors import IndexNotFound, SiftError
from sift.http.auth import forwarded_origin, guard, services
from sift.http.responses import (
    JSONResponse,
    accepted,
    check_fields,
    check_params,
    int_param,
    json_body,
    require_object,
    validate_index_uid,
    wrong_type,
)
from sift.http.routes.network import already_here
from sift.http.schemas import doc, requests, responses
from sift.ops.keys import Principal, index_allowed
from sift.storage import indexes as index_rows
from sift.storage.indexes import IndexRecord
from sift.tasks.views import rfc3339, summary_view

router = APIRouter(tags=["Indexes"])


def index_view(record: IndexRecord) -> dict[str, Any]:
    return {
        "uid": record.uid,
        "createdAt": rfc3339(record.created_at),
        "updatedAt": rfc3339(record.updated_at),
        "primaryKey": record.primary_key,
    }


def _primary_key(body: dict[str, Any]) -> str | None:
    value = body.get("primaryKey")
    if value is not None and not isinstance(value, str):
        raise wrong_type("primaryKey", "a string", value, "invalid_index_primary_key")
    return value


@router.get("/indexes", summary="List indexes", **doc(responses.IndexPage))
async def list_indexes(
    request: Request, principal: Principal = Depends(guard("indexes.get"))
) -> JSONResponse:
    params = request.query_params
    check_params(params, ("offset", "limit"))
    offset = int_param(params, "offset", 0, "invalid_index_offset")
    limit = int_param(params, "limit", 20, "invalid_index_limit")
    svc = services(request)

    def page() -> tuple[list[IndexRecord], int]:
        with svc.db.read() as conn:
            patterns = principal.index_patterns()
            if patterns is None:
                return index_rows.list_page(conn, offset, limit)
            visible = [r for r in index_rows.all_records(conn) if index_allowed(patterns, r.uid)]
            return visible[offset : offset + limit], len(visible)

    records, total = await run_in_threadpool(page)
    return JSONResponse(
        {
            "results": [index_view(r) for r in records],
            "offset": offset,
            "limit": limit,
            "total": total,
        }
    )


@router.post(
    "/indexes",
    summary="Create an index",
    status_code=202,
    **doc(responses.TaskSummary, requests.IndexCreate, status=202),
)
async def create_index(
    request: Request, _: Principal = Depends(guard("indexes.create"))
) -> JSONResponse:
    body = require_object(await json_body(request))
    check_fields(body, ("uid", "primaryKey"))
    if "uid" not in body:
        raise SiftError("Missing field `uid`", "missing_index_uid")
    uid = validate_index_uid(body["uid"])
    primary_key = _primary_key(body)
    return await _enqueue(request, "indexCreation", uid, {"primaryKey": primary_key},
                          {"primaryKey": primary_key})  # fmt: skip


async def _enqueue(request: Request, task_type: str, uid: str, details: dict[str, Any],
                   params: dict[str, Any] | None = None) -> JSONResponse:  # fmt: skip
    """Enqueue an index's task; the leader forwards it to the remotes with databases of
    their own (cluster/forward.py), naming itself as its origin."""
    origin = forwarded_origin(request)
    if (answer := already_here(request, origin)) is not None:
        return answer
    task = await run_in_threadpool(services(request).enqueue, task_type, uid, details, params,
                                   (), origin)  # fmt: skip
    return accepted(summary_view(task))


async def get_record(request: Request, uid: str) -> IndexRecord:
    validate_index_uid(uid)
    svc = services(request)

    def load() -> IndexRecord | None:
        with svc.db.read() as conn:
            return index_rows.get(conn, uid)

    record = await run_in_threadpool(load)
    if record is None:
        raise IndexNotFound(uid)
    return record


@router.get("/indexes/{index_uid}", summary="Get an index", **doc(responses.Index))
async def get_index(
    request: Request, index_uid: str, _: Principal = Depends(guard("indexes.get"))
) -> JSONResponse:
    return JSONResponse(index_view(await get_record(request, index_uid)))


@router.patch(
    "/indexes/{index_uid}",
    summary="Update an index",
    status_code=202,
    **doc(responses.TaskSummary, requests.IndexUpdate, status=202),
)
async def update_index(
    request: Request, index_uid: str, _: Principal = Depends(guard("indexes.update"))
) -> JSONResponse:
    validate_index_uid(index_uid)
    body = require_object(await json_body(request))
    check_fields(body, ("primaryKey", "uid"))
    primary_key = _primary_key(body)
    details: dict[str, Any] = {"primaryKey": primary_key}
    params: dict[str, Any] = {"primaryKey": primary_key}
    if "uid" in body:
        new_uid = validate_index_uid(body["uid"])
        details.update(oldIndexUid=index_uid, newIndexUid=new_uid)
        params["newIndexUid"] = new_uid
    return await _enqueue(request, "indexUpdate", index_uid, details, params)


@router.delete(
    "/indexes/{index_uid}",
    summary="Delete an index",
    status_code=202,
    **doc(responses.TaskSummary, status=202),
)
async def delete_index(
    request: Request, index_uid: str, _: Principal = Depends(guard("indexes.delete"))
) -> JSONResponse:
    validate_index_uid(index_uid)
    return await _enqueue(request, "indexDeletion", index_uid, {"deletedDocuments": None})


@router.post(
    "/indexes/{index_uid}/compact",
    summary="Compact an index",
    status_code=202,
    **doc(responses.TaskSummary, status=202),
)
async def compact_index(
    request: Request, index_uid: str, _: Principal = Depends(guard("indexes.compact"))
) -> JSONResponse:
    validate_index_uid(index_uid)
    task = await run_in_threadpool(
        services(request).enqueue,
        "indexCompaction",
        index_uid,
        {"preCompactionSize": None, "postCompactionSize": None},
    )
    return accepted(summary_view(task))


@router.post(
    "/swap-indexes",
    summary="Swap indexes",
    status_code=202,
    **doc(responses.TaskSummary, requests.SwapList, status=202),
)
async def swap_indexes(
    request: Request, principal: Principal = Depends(guard("indexes.swap"))
) -> JSONResponse:
    body = await json_body(request)
    if not isinstance(body, list):
        raise wrong_type("", "an array", body, "invalid_swap_indexes")
    swaps = []
    seen: set[str] = set()
    for position, item in enumerate(body):
        item = require_object(item)
        check_fields(item, ("indexes", "rename"))
        pair = item.get("indexes")
        if not isinstance(pair, list) or len(pair) != 2:
            raise SiftError(
                f"Invalid value at `[{position}].indexes`: Two indexes must be given for each "
                "swap. The list `" + str(pair) + "` contains "
                f"{len(pair) if isinstance(pair, list) else 0} indexes.",
                "invalid_swap_indexes",
            )
        for uid in pair:
            validate_index_uid(uid)
            if not principal.can_index(uid):
                raise SiftError("The provided API key is invalid.", "invalid_api_key")
            if uid in seen:
                raise SiftError(
                    f"Indexes must be declared only once during a swap. `{uid}` was specified "
                    "several times.",
                    "invalid_swap_duplicate_index_found",
                )
            seen.add(uid)
        rename = item.get("rename", False)
        if not isinstance(rename, bool):
            raise wrong_type(f"[{position}].rename", "a boolean", rename, "invalid_swap_rename")
        swaps.append({"indexes": pair, "rename": rename})
    # As an index's own tasks, the leader forwards swaps to every remote (cluster/forward.py).
    origin = forwarded_origin(request)
    if (answer := already_here(request, origin)) is not None:
        return answer
    task = await run_in_threadpool(services(request).enqueue, "indexSwap", None,
                                   {"swaps": swaps}, {"swaps": swaps}, (), origin)  # fmt: skip
    return accepted(summary_view(task))
