"""/sources: the databases Sift keeps indexes in sync with (docs/sync.md).

Sources are declared in sift.toml; the API shows them (state, position, lag, counters,
the rows that failed to convert) and re-snapshots one on request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from sift.errors import SiftError
from sift.http.auth import guard, services
from sift.http.responses import JSONResponse
from sift.http.schemas import doc, responses
from sift.ops.keys import Principal
from sift.sync import SyncManager, UnknownSource

router = APIRouter(tags=["Sources"])
T = TypeVar("T")


def _manager(request: Request) -> SyncManager:
    manager = services(request).sync
    assert manager is not None
    return manager


async def _call(request: Request, name: str, method: Callable[[str], T]) -> T:
    """A manager method on one source, in the thread pool; unknown names are a 404."""
    try:
        return await run_in_threadpool(method, name)
    except UnknownSource:
        raise SiftError(f"Source `{name}` not found.", "source_not_found") from None


@router.get(
    "/sources", summary="Every source and where it stands", **doc(responses.SourceList)
)
async def list_sources(
    request: Request, _: Principal = Depends(guard("sources.get"))
) -> JSONResponse:
    views = await run_in_threadpool(_manager(request).status)
    return JSONResponse({"results": views, "total": len(views)})


@router.get(
    "/sources/{name}",
    summary="One source, with its recent row errors",
    **doc(responses.Source),
)
async def get_source(
    request: Request, name: str, _: Principal = Depends(guard("sources.get"))
) -> JSONResponse:
    manager = _manager(request)
    view = (await _call(request, name, manager.status))[0]
    view["recentRowErrors"] = await _call(request, name, manager.row_errors)
    return JSONResponse(view)


@router.post(
    "/sources/{name}/resnapshot",
    summary="Forget the position and snapshot again",
    status_code=202,
    **doc(responses.SourceResnapshot, status=202),
)
async def resnapshot(
    request: Request, name: str, _: Principal = Depends(guard("sources.update"))
) -> JSONResponse:
    await _call(request, name, _manager(request).resnapshot)
    return JSONResponse({"name": name, "state": "new"}, status_code=202)
