"""/dumps and /snapshots: backups as tasks (what they write: sift/backups.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from sift.http.auth import guard, services
from sift.http.responses import JSONResponse, accepted
from sift.http.schemas import doc, responses
from sift.ops.keys import Principal
from sift.tasks.views import summary_view

router = APIRouter(tags=["Backups"])


@router.post(
    "/dumps",
    summary="Create a dump (portable export)",
    status_code=202,
    **doc(responses.TaskSummary, status=202),
)
async def create_dump(
    request: Request, _: Principal = Depends(guard("dumps.create"))
) -> JSONResponse:
    svc = services(request)
    task = await run_in_threadpool(svc.enqueue, "dumpCreation", None, {"dumpUid": None})
    return accepted(summary_view(task))


@router.post(
    "/snapshots",
    summary="Create a snapshot (SQLite file copy)",
    status_code=202,
    **doc(responses.TaskSummary, status=202),
)
async def create_snapshot(
    request: Request, _: Principal = Depends(guard("snapshots.create"))
) -> JSONResponse:
    svc = services(request)
    task = await run_in_threadpool(svc.enqueue, "snapshotCreation", None, None)
    return accepted(summary_view(task))
