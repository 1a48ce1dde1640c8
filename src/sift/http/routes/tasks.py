"""/tasks: list, get, cancel, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from sift.errors import SiftError, TaskNotFound
from sift.http.auth import guard, services
from sift.http.responses import JSONResponse, accepted
from sift.http.schemas import doc, responses
from sift.inputs import U32, uint_param
from sift.ops.keys import Principal, index_allowed
from sift.storage import tasks as task_rows
from sift.storage.tasks import TaskRecord
from sift.tasks.filters import (
    FILTER_PARAMS,
    check_known,
    parse_listing,
    task_filter_from_params,
)
from sift.tasks.views import summary_view, task_view

router = APIRouter(tags=["Tasks"])


def _visible(principal: Principal, task: TaskRecord) -> bool:
    patterns = principal.index_patterns()
    if patterns is None:
        return True
    return task.index_uid is not None and index_allowed(patterns, task.index_uid)


def _live(request: Request, task: TaskRecord) -> dict:
    """The task's view; while this process applies its batch, ``details.progress`` holds
    the batch's live progress (steps such as "embedding documents", percentage), the
    same object as ``GET /batches/{uid}``'s ``progress``. Gone once the task finishes."""
    view = task_view(task)
    progress = services(request).worker.progress_of(task.batch_uid)
    if task.status == "processing" and progress is not None:
        view["details"] = {**(view.get("details") or {}), "progress": progress}
    return view


@router.get("/tasks", summary="List tasks", **doc(responses.TaskPage))
async def list_tasks(
    request: Request, principal: Principal = Depends(guard("tasks.get"))
) -> JSONResponse:
    flt, limit, from_uid, reversed_ = parse_listing(dict(request.query_params))
    patterns = principal.index_patterns()
    if patterns is not None:
        # An API key restricted to some indexes only sees their tasks.
        flt.index_uids = (
            [u for u in (flt.index_uids or []) if index_allowed(patterns, u)]
            if flt.index_uids is not None
            else None
        )
    svc = services(request)

    def load() -> tuple[list[TaskRecord], int, int | None]:
        with svc.catalog.settled(), svc.db.read() as conn:
            return task_rows.query(conn, flt, limit, from_uid, reversed_)

    records, total, next_uid = await run_in_threadpool(load)
    results = [_live(request, t) for t in records if _visible(principal, t)]
    return JSONResponse(
        {
            "results": results,
            "total": total,
            "limit": limit,
            "from": records[0].uid if records else None,
            "next": next_uid,
        }
    )


def _task_uid(raw: str) -> int:
    return uint_param("taskUid", raw, U32, "invalid_task_uids")


@router.get("/tasks/{task_uid}", summary="Get a task", **doc(responses.Task))
async def get_task(
    request: Request, task_uid: str, principal: Principal = Depends(guard("tasks.get"))
) -> JSONResponse:
    uid = _task_uid(task_uid)
    svc = services(request)

    def load() -> TaskRecord | None:
        with svc.catalog.settled(), svc.db.read() as conn:
            return task_rows.get(conn, uid)

    task = await run_in_threadpool(load)
    if task is None or not _visible(principal, task):
        raise TaskNotFound(uid)
    return JSONResponse(_live(request, task))


@router.get(
    "/tasks/{task_uid}/documents",
    summary="Documents of a task not yet applied",
    **doc(str, answer_media="application/x-ndjson"),
)
async def get_task_documents(
    request: Request, task_uid: str, principal: Principal = Depends(guard("tasks.get"))
) -> Response:
    """The NDJSON payload of a document task, while Sift still holds it: a payload is
    stored with its task and deleted once the task is applied (keeping every payload
    would store each document twice), so this answers for enqueued and processing tasks
    and `task_file_not_found` afterwards."""
    uid = _task_uid(task_uid)
    svc = services(request)

    def load() -> tuple[TaskRecord | None, list[bytes]]:
        with svc.db.read() as conn:  # one snapshot: the worker cannot delete it midway
            task = task_rows.get(conn, uid)
            return task, list(task_rows.iter_payload(conn, uid)) if task else []

    task, chunks = await run_in_threadpool(load)
    if task is None or not _visible(principal, task):
        raise TaskNotFound(uid)
    if task.type != "documentAdditionOrUpdate" or not chunks:
        raise SiftError(
            f"The documents of task `{task_uid}` are not available: Sift keeps a task's "
            "payload only until the task is applied.",
            "task_file_not_found",
        )
    return Response(b"".join(chunks), media_type="application/x-ndjson")


async def _task_on_tasks(request: Request, kind: str, verb: str) -> JSONResponse:
    params = dict(request.query_params)
    check_known(params, FILTER_PARAMS)
    if not params:
        listed = ", ".join(f"`{p}`" for p in FILTER_PARAMS)
        raise SiftError(
            f"Query parameters to filter the tasks to {verb} are missing. Available query "
            f"parameters are: {listed}.",
            "missing_task_filters",
        )
    flt = task_filter_from_params(params)
    svc = services(request)

    def enqueue() -> Any:
        with svc.db.read() as conn:
            matched = len(task_rows.matching_uids(conn, flt))
        original = "?" + str(request.url.query)
        details: dict[str, Any] = {"matchedTasks": matched, "originalFilter": original}
        details["canceledTasks" if kind == "taskCancelation" else "deletedTasks"] = None
        return svc.enqueue(kind, None, details, {"filter": params})

    return accepted(summary_view(await run_in_threadpool(enqueue)))


@router.post(
    "/tasks/cancel",
    summary="Cancel tasks",
    status_code=202,
    **doc(responses.TaskSummary, status=202),
)
async def cancel_tasks(
    request: Request, _: Principal = Depends(guard("tasks.cancel"))
) -> JSONResponse:
    return await _task_on_tasks(request, "taskCancelation", "cancel")


@router.delete(
    "/tasks", summary="Delete tasks", status_code=202, **doc(responses.TaskSummary, status=202)
)
async def delete_tasks(
    request: Request, _: Principal = Depends(guard("tasks.delete"))
) -> JSONResponse:
    return await _task_on_tasks(request, "taskDeletion", "delete")
