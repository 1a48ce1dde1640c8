"""/sources: the databases Sift keeps indexes in sync with (docs/sync.md).

Sources are declared in sift.toml; the API shows them (state, position, lag, counters,
the rows that failed to convert) and re-snapshots one on request.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from sift.errors import SiftError
from sift.http.auth import guard, services
from sift.http.responses import JSONResponse
from sift.keys import Principal
from sift.sync import SyncManager, UnknownSource

router = APIRouter(tags=["Sources"])


def _manager(request: Request) -> SyncManager:
    manager = services(request).sync
    assert manager is not None
    return manager


def _not_found(name: str) -> SiftError:
    return SiftError(f"Source `{name}` not found.", "source_not_found")


@router.get("/sources", summary="Every source and where it stands")
async def list_sources(
    request: Request, _: Principal = Depends(guard("sources.get"))
) -> JSONResponse:
    views = await run_in_threadpool(_manager(request).status)
    return JSONResponse({"results": views, "total": len(views)})


@router.get("/sources/{name}", summary="One source, with its recent row errors")
async def get_source(
    request: Request, name: str, _: Principal = Depends(guard("sources.get"))
) -> JSONResponse:
    manager = _manager(request)
    try:
        view = (await run_in_threadpool(manager.status, name))[0]
        view["recentRowErrors"] = await run_in_threadpool(manager.row_errors, name)
    except UnknownSource:
        raise _not_found(name) from None
    return JSONResponse(view)


@router.post("/sources/{name}/resnapshot", summary="Forget the position and snapshot again")
async def resnapshot(
    request: Request, name: str, _: Principal = Depends(guard("sources.update"))
) -> JSONResponse:
    manager = _manager(request)
    try:
        await run_in_threadpool(manager.resnapshot, name)
    except UnknownSource:
        raise _not_found(name) from None
    return JSONResponse({"name": name, "state": "new"}, status_code=202)
