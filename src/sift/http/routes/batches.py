"""/batches: the groups of tasks the worker ran together, derived from the tasks table."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from sift.errors import SiftError
from sift.http.auth import guard, services
from sift.http.responses import JSONResponse
from sift.http.schemas import doc, responses
from sift.inputs import U32, uint_param
from sift.ops.keys import Principal, index_allowed
from sift.storage import batches as batch_rows
from sift.storage import tasks as task_rows
from sift.storage.tasks import TaskFilter, TaskRecord
from sift.tasks.filters import parse_listing
from sift.tasks.views import batch_view

router = APIRouter(tags=["Batches"])


Page = tuple[list[tuple[int, list[TaskRecord]]], int, int | None]


def _restrict(principal: Principal, flt: TaskFilter) -> None:
    """An API key limited to some indexes only sees batches touching them."""
    patterns = principal.index_patterns()
    if patterns is None:
        return
    if flt.index_uids is None:
        raise SiftError("The provided API key is invalid.", "invalid_api_key")
    flt.index_uids = [u for u in flt.index_uids if index_allowed(patterns, u)]


@router.get("/batches", summary="List batches", **doc(responses.BatchPage))
async def list_batches(
    request: Request, principal: Principal = Depends(guard("tasks.get"))
) -> JSONResponse:
    flt, limit, from_uid, reversed_ = parse_listing(dict(request.query_params))
    _restrict(principal, flt)
    svc = services(request)

    def load() -> tuple[Page, dict[int, dict[str, str]]]:
        with svc.catalog.settled(), svc.db.read() as conn:
            page = task_rows.query_batches(conn, flt, limit, from_uid, reversed_)
            return page, batch_rows.traces(conn, [uid for uid, _ in page[0]])

    (batches, total, next_uid), traces = await run_in_threadpool(load)
    worker = services(request).worker
    return JSONResponse(
        {
            "results": [
                batch_view(uid, tasks, worker.progress_of(uid), traces.get(uid))
                for uid, tasks in batches
            ],
            "total": total,
            "limit": limit,
            "from": batches[0][0] if batches else None,
            "next": next_uid,
        }
    )


@router.get("/batches/{batch_uid}", summary="Get a batch", **doc(responses.Batch))
async def get_batch(
    request: Request, batch_uid: str, principal: Principal = Depends(guard("tasks.get"))
) -> JSONResponse:
    uid = uint_param("batchUid", batch_uid, U32, "invalid_batch_uid")
    flt = TaskFilter(batch_uids=[uid])
    patterns = principal.index_patterns()
    svc = services(request)

    def load() -> tuple[Page, dict[int, dict[str, str]]]:
        with svc.catalog.settled(), svc.db.read() as conn:
            return task_rows.query_batches(conn, flt, 1, None), batch_rows.traces(conn, [uid])

    (batches, _, _), traces = await run_in_threadpool(load)
    visible = batches and (
        patterns is None
        or any(t.index_uid and index_allowed(patterns, t.index_uid) for t in batches[0][1])
    )
    if not visible:
        raise SiftError(f"Batch `{batch_uid}` not found.", "batch_not_found")
    _, tasks = batches[0]
    worker = services(request).worker
    return JSONResponse(batch_view(uid, tasks, worker.progress_of(uid), traces.get(uid)))
