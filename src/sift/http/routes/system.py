"""/health, /version, /stats, /indexes/{uid}/stats."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

import sift
from sift.errors import IndexNotFound
from sift.http.auth import guard, services
from sift.http.responses import JSONResponse, validate_index_uid
from sift.keys import Principal, index_allowed
from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows
from sift.storage import tasks as task_rows
from sift.tasks.views import rfc3339

router = APIRouter(tags=["System"])


@router.get("/health", summary="Health of this node")
async def health(request: Request) -> JSONResponse:
    svc = services(request)

    def check() -> None:
        with svc.db.read() as conn:
            conn.exec_driver_sql("SELECT 1")

    try:
        await run_in_threadpool(check)
    except Exception:  # the database is the one dependency health reflects
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "available"})


@router.get("/version", summary="Version")
async def version(_: Principal = Depends(guard("version"))) -> JSONResponse:
    return JSONResponse(
        {"commitSha": "unknown", "commitDate": "unknown", "pkgVersion": sift.__version__}
    )


def _index_stats(svc: Any, conn: Any, record: index_rows.IndexRecord) -> dict[str, Any]:
    index = svc.catalog.find(record.uid)
    return {
        "numberOfDocuments": doc_rows.count(conn, record.id),
        "rawDocumentDbSize": 0,
        "avgDocumentSize": 0,
        "isIndexing": False,
        "numberOfEmbeddings": 0,
        "numberOfEmbeddedDocuments": 0,
        "fieldDistribution": index.field_distribution() if index is not None else {},
    }


def _indexing_uids(conn: Any) -> set[str]:
    from sift.storage.tasks import TaskFilter

    records, _, _ = task_rows.query(conn, TaskFilter(statuses=["processing"]), 1000, None)
    return {t.index_uid for t in records if t.index_uid}


@router.get("/stats", summary="Stats of every index")
async def stats(
    request: Request, principal: Principal = Depends(guard("stats.get"))
) -> JSONResponse:
    svc = services(request)

    def load() -> dict[str, Any]:
        with svc.db.read() as conn:
            patterns = principal.index_patterns()
            records = [
                r
                for r in index_rows.all_records(conn)
                if patterns is None or index_allowed(patterns, r.uid)
            ]
            indexing = _indexing_uids(conn)
            per_index = {}
            for record in records:
                entry = _index_stats(svc, conn, record)
                entry["isIndexing"] = record.uid in indexing
                per_index[record.uid] = entry
            last = max((r.updated_at for r in records), default=None)
            size = _database_size(svc, conn)
        return {
            "databaseSize": size,
            "usedDatabaseSize": size,
            "lastUpdate": rfc3339(last),
            "indexes": per_index,
        }

    return JSONResponse(await run_in_threadpool(load))


def _database_size(svc: Any, conn: Any) -> int:
    if svc.db.is_sqlite:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar() or 0
        page_size = conn.exec_driver_sql("PRAGMA page_size").scalar() or 0
        return int(pages * page_size)
    return int(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar() or 0)


@router.get("/indexes/{index_uid}/stats", summary="Stats of one index")
async def index_stats(
    request: Request, index_uid: str, _: Principal = Depends(guard("stats.get"))
) -> JSONResponse:
    validate_index_uid(index_uid)
    svc = services(request)

    def load() -> dict[str, Any]:
        with svc.db.read() as conn:
            record = index_rows.get(conn, index_uid)
            if record is None:
                raise IndexNotFound(index_uid)
            entry = _index_stats(svc, conn, record)
            entry["isIndexing"] = index_uid in _indexing_uids(conn)
            return entry

    return JSONResponse(await run_in_threadpool(load))
