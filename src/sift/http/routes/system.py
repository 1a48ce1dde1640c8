"""/health, /version, /stats, /indexes/{uid}/stats."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

import sift
from sift.errors import IndexNotFound, SiftError
from sift.http.auth import authenticate, guard, services
from sift.http.responses import JSONResponse, check_params, validate_index_uid
from sift.http.schemas import doc, responses
from sift.ops.keys import Principal, index_allowed
from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows
from sift.storage import tasks as task_rows
from sift.tasks.views import rfc3339

router = APIRouter(tags=["System"])


@router.get("/health", summary="Health of this node", **doc(responses.Health))
async def health(request: Request) -> JSONResponse:
    svc = services(request)

    def check() -> None:
        with svc.db.read() as conn:
            conn.exec_driver_sql("SELECT 1")

    try:
        await run_in_threadpool(check)
    except Exception:  # the database is the one dependency health reflects
        return JSONResponse({"status": "unavailable"}, status_code=503)
    body: dict[str, Any] = {"status": "available"}
    if svc.sync is not None and svc.sync.runners:
        # A source that is down does not make Sift unavailable: searches still answer.
        body["sources"] = {name: r.state for name, r in svc.sync.runners.items()}
    return JSONResponse(body)


@router.get("/version", summary="Version", **doc(responses.Version))
async def version(request: Request) -> JSONResponse:
    await authenticate(request, "version")  # a hot route (sift.http.hot_routes)
    return JSONResponse(
        {"commitSha": "unknown", "commitDate": "unknown", "pkgVersion": sift.__version__}
    )


SIZE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


@dataclass(frozen=True)
class StatsQuery:
    """`showInternalDatabaseSizes` and `sizeFormat`, shared by /stats and index stats."""

    internal_sizes: bool = False
    human: bool = False

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> StatsQuery:
        check_params(params, ("showInternalDatabaseSizes", "sizeFormat"))
        show = params.get("showInternalDatabaseSizes", "false")
        if show not in ("true", "false"):
            raise SiftError(
                "Invalid value in parameter `showInternalDatabaseSizes`: could not parse "
                f"`{show}` as a boolean, expected either `true` or `false`",
                "bad_request",
            )
        size_format = params.get("sizeFormat", "raw")
        if size_format not in ("raw", "human"):
            raise SiftError(
                f"Unknown value `{size_format}` at `sizeFormat`: expected one of `raw`, `human`",
                "bad_request",
            )
        return cls(internal_sizes=show == "true", human=size_format == "human")

    def size(self, n: int) -> int | str:
        if not self.human:
            return n
        value, unit = float(n), 0
        while value >= 1024 and unit < len(SIZE_UNITS) - 1:
            value, unit = value / 1024, unit + 1
        return f"{n} B" if unit == 0 else f"{value:.2f} {SIZE_UNITS[unit]}"


def _index_stats(
    svc: Any, conn: Any, record: index_rows.IndexRecord, query: StatsQuery
) -> dict[str, Any]:
    index = svc.catalog.find(record.uid)
    count, raw_size, max_size = doc_rows.sizes(conn, record.id)
    # The SQL rows are the index's storage; the in-memory search index is derived from them
    # and not counted, so index size and document size coincide.
    entry: dict[str, Any] = {
        "numberOfDocuments": count,
        "rawDocumentDbSize": query.size(raw_size),
        "maxDocumentSize": query.size(max_size),
        "avgDocumentSize": query.size(raw_size // count if count else 0),
        "isIndexing": False,
        "numberOfEmbeddings": 0,
        "numberOfEmbeddedDocuments": 0,
        "fieldDistribution": index.field_distribution() if index is not None else {},
        "indexSize": query.size(raw_size),
        "usedIndexSize": query.size(raw_size),
    }
    if query.internal_sizes:
        entry["internalDatabaseSizes"] = {"documents": query.size(raw_size)}
    return entry


def _indexing_uids(conn: Any) -> set[str]:
    from sift.storage.tasks import TaskFilter

    records, _, _ = task_rows.query(conn, TaskFilter(statuses=["processing"]), 1000, None)
    return {t.index_uid for t in records if t.index_uid}


@router.get("/stats", summary="Stats of every index", **doc(responses.Stats))
async def stats(
    request: Request, principal: Principal = Depends(guard("stats.get"))
) -> JSONResponse:
    query = StatsQuery.parse(request.query_params)
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
                entry = _index_stats(svc, conn, record, query)
                entry["isIndexing"] = record.uid in indexing
                per_index[record.uid] = entry
            last = max((r.updated_at for r in records), default=None)
            size = _database_size(svc, conn)
        return {
            "databaseSize": query.size(size),
            "usedDatabaseSize": query.size(size),
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


@router.get("/indexes/{index_uid}/stats", summary="Stats of one index", **doc(responses.IndexStats))
async def index_stats(
    request: Request, index_uid: str, _: Principal = Depends(guard("stats.get"))
) -> JSONResponse:
    validate_index_uid(index_uid)
    query = StatsQuery.parse(request.query_params)
    svc = services(request)

    def load() -> dict[str, Any]:
        with svc.db.read() as conn:
            record = index_rows.get(conn, index_uid)
            if record is None:
                raise IndexNotFound(index_uid)
            entry = _index_stats(svc, conn, record, query)
            entry["isIndexing"] = index_uid in _indexing_uids(conn)
            return entry

    return JSONResponse(await run_in_threadpool(load))
