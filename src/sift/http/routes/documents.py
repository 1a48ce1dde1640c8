"""/indexes/{uid}/documents: add, replace, update, list, fetch, delete."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from typing import Any, Final

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from sift.cluster import browse, federate
from sift.engine import partition
from sift.errors import DocumentNotFound, IndexNotFound, SiftError
from sift.http.auth import forwarded_origin, guard, services
from sift.http.encoding import body_stream, payload_too_large
from sift.http.responses import (
    JSONResponse,
    accepted,
    check_fields,
    check_params,
    custom_metadata,
    int_param,
    json_body,
    require_object,
    validate_index_uid,
    wrong_type,
)
from sift.http.routes.network import already_here
from sift.http.schemas import DOCUMENT_TYPES, USE_NETWORK_QUERY, doc, requests, responses
from sift.inputs import U64, USIZE, check_utf8, parse_uint, shown, uint_field
from sift.ops.keys import Principal
from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows
from sift.tasks.payload import payload_format, validate_csv_delimiter
from sift.tasks.views import summary_view

router = APIRouter(tags=["Documents"])
SPOOL_IN_MEMORY = 8 << 20  # request bodies above this go to a temporary file
# Each listing parameter's error code (Meilisearch's invalid_document_*), spelled out as
# the search and similar routes' tables are: tests/api/test_hostile_pass.py checks every
# code against sift.errors.
LISTING_CODES: Final = {
    "offset": "invalid_document_offset",
    "limit": "invalid_document_limit",
    "fields": "invalid_document_fields",
    "filter": "invalid_document_filter",
    "retrieveVectors": "invalid_document_retrieve_vectors",
    "ids": "invalid_document_ids",
    "sort": "invalid_document_sort",
    "useNetwork": "invalid_document_use_network",
}
LISTING_FIELDS = tuple(LISTING_CODES)


async def _spool(request: Request) -> tempfile.SpooledTemporaryFile[bytes]:
    """Copy the body to a spooled file, enforcing the payload size limit while streaming."""
    limit = services(request).config.max_payload_bytes
    too_large = payload_too_large(limit)
    declared = parse_uint(request.headers.get("content-length") or "", U64)
    if declared is not None and declared > limit:
        raise too_large
    spool: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115
        SPOOL_IN_MEMORY
    )  # closed by the caller once the task is stored
    size = 0
    try:
        async for chunk in body_stream(request):  # decoded: the limit applies to what we store
            size += len(chunk)
            if size > limit:
                raise too_large
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


async def _add_documents(request: Request, index_uid: str, method: str) -> JSONResponse:
    validate_index_uid(index_uid)
    params = request.query_params
    check_params(params, ("primaryKey", "csvDelimiter", "customMetadata", "skipCreation"))
    fmt = payload_format(request.headers.get("content-type"))
    delimiter = validate_csv_delimiter(params.get("csvDelimiter"))
    if "csvDelimiter" in params and fmt != "csv":
        raise SiftError(
            "The Content-Type `" + (request.headers.get("content-type") or "") + "` does not "
            "support the use of a csv delimiter. The csv delimiter can only be used with the "
            "Content-Type `text/csv`.",
            "invalid_document_csv_delimiter",
        )
    task_params: dict[str, Any] = {"method": method, **custom_metadata(params)}
    if "primaryKey" in params:
        task_params["primaryKey"] = params["primaryKey"]
    skip = params.get("skipCreation", "false")
    if skip not in ("true", "false"):
        raise SiftError(
            f"Invalid value in parameter `skipCreation`: could not parse `{skip}` as a boolean, "
            "expected either `true` or `false`",
            "bad_request",
        )
    if skip == "true":
        task_params["skipCreation"] = True
    origin = forwarded_origin(request)
    if (answer := already_here(request, origin)) is not None:
        return answer
    spool = await _spool(request)
    try:
        task = await run_in_threadpool(
            services(request).enqueue_documents, index_uid, spool, fmt, task_params, delimiter,
            origin,
        )
    finally:
        spool.close()
    return accepted(summary_view(task))


@router.post(
    "/indexes/{index_uid}/documents",
    summary="Add or replace documents",
    status_code=202,
    **doc(responses.TaskSummary, requests.Documents, status=202, body_media=DOCUMENT_TYPES),
)
async def add_or_replace(
    request: Request, index_uid: str, _: Principal = Depends(guard("documents.add"))
) -> JSONResponse:
    return await _add_documents(request, index_uid, "replace")


@router.put(
    "/indexes/{index_uid}/documents",
    summary="Add or update documents",
    status_code=202,
    **doc(responses.TaskSummary, requests.Documents, status=202, body_media=DOCUMENT_TYPES),
)
async def add_or_update(
    request: Request, index_uid: str, _: Principal = Depends(guard("documents.add"))
) -> JSONResponse:
    return await _add_documents(request, index_uid, "update")


def _fields(raw: Any, code: str = "invalid_document_fields") -> list[str] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        items = [f.strip() for f in raw.split(",") if f.strip()]
    elif isinstance(raw, list) and all(isinstance(f, str) for f in raw):
        items = raw
    else:
        raise wrong_type("fields", "an array", raw, code)
    return None if "*" in items else items


def _retrieve_vectors(raw: Any) -> bool:
    """`retrieveVectors` from a query string ("true"/"false") or a JSON body (a boolean)."""
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    if raw in ("true", "false"):
        return raw == "true"
    if isinstance(raw, str):
        raise SiftError(
            f"Invalid value in parameter `retrieveVectors`: could not parse `{raw}` as a boolean, "
            "expected either `true` or `false`",
            "invalid_document_retrieve_vectors",
        )
    raise wrong_type("retrieveVectors", "a boolean", raw, "invalid_document_retrieve_vectors")


def _project(
    doc: dict[str, Any],
    fields: list[str] | None,
    displayed: list[str],
    retrieve_vectors: bool = False,
) -> dict[str, Any]:
    vectors = doc.get("_vectors")
    if "*" not in displayed:
        doc = {k: v for k, v in doc.items() if k in displayed}
    if fields is not None:
        doc = {k: v for k, v in doc.items() if k in fields}
    doc.pop("_vectors", None)
    if retrieve_vectors:
        # Meilisearch always answers `_vectors` when asked, `{}` for a document without any.
        doc["_vectors"] = vectors if isinstance(vectors, dict) else {}
    return doc


@dataclass(frozen=True)
class Listing:
    """What a listing of documents asks for (GET /documents, POST /documents/fetch)."""

    offset: int
    limit: int
    fields: list[str] | None
    filter_expr: Any
    ids: list[str] | None
    retrieve_vectors: bool = False
    sort: list[str] | None = None


def _list_local(svc: Any, index_uid: str, asked: Listing) -> tuple[list[dict[str, Any]], int]:
    """This node's page of documents and their total."""
    filter_expr, ids, sort = asked.filter_expr, asked.ids, asked.sort
    with svc.db.read() as conn:
        record = index_rows.get(conn, index_uid)
        if record is None:
            raise IndexNotFound(index_uid)
        displayed = record.settings.get("displayedAttributes", ["*"])
        if filter_expr is None and ids is None and not sort:
            bodies = doc_rows.list_page(conn, record.id, asked.offset, asked.limit)
            total = doc_rows.count(conn, record.id)
        else:
            wanted = ids
            index = svc.catalog.filter_view(
                index_uid, conn, partition.selected_shards(filter_expr))
            if sort:
                matching = index.sorted_ids(sort, filter_expr)
                keep = None if ids is None else set(ids)
                ordered = [i for i in matching if keep is None or i in keep]
            else:
                if filter_expr is not None:
                    matching = index.filter_ids(filter_expr)
                    if wanted is None:
                        wanted = matching
                    else:  # the set once, not once per id asked for
                        matching_set = set(matching)
                        wanted = [i for i in wanted if i in matching_set]
                ordered = doc_rows.list_ids_ordered(conn, record.id, wanted or [])
            total = len(ordered)
            page = ordered[asked.offset : asked.offset + asked.limit]
            found = doc_rows.get_many(conn, record.id, page)
            bodies = [found[i] for i in page if i in found]
    return [
        _project(orjson.loads(b), asked.fields, displayed, asked.retrieve_vectors)
        for b in bodies
    ], total


def _use_network(request: Request, raw: Any, in_query: bool = False) -> bool:
    """`useNetwork` of a document route, from a query string (``in_query``: "true" or
    "false") or a JSON body (a boolean or null); absent, Meilisearch's default (on when
    the network has a leader)."""
    if in_query and raw is not None:
        if raw not in ("true", "false"):
            raise SiftError(
                f"Invalid value in parameter `useNetwork`: could not parse `{raw}` as a "
                "boolean, expected either `true` or `false`",
                "invalid_document_use_network",
            )
        raw = raw == "true"
    return federate.use_network(raw, services(request).network, "invalid_document_use_network")


def _list_network(svc: Any, index_uid: str, asked: Listing) -> tuple[list[dict[str, Any]], int]:
    """The page out of every shard's documents, each shard asked once (cluster/browse.py)."""
    extra: dict[str, Any] = {"retrieveVectors": asked.retrieve_vectors}
    if asked.filter_expr is not None:
        extra["filter"] = asked.filter_expr
    if asked.ids is not None:
        extra["ids"] = asked.ids
    body = browse.leg_body(asked.offset, asked.limit, asked.fields, asked.sort, extra)

    def local(leg: dict[str, Any]) -> dict[str, Any]:
        mine = replace(asked, offset=0, limit=leg["limit"], fields=leg["fields"],
                       filter_expr=leg.get("filter"))
        results, total = _list_local(svc, index_uid, mine)
        return {"results": results, "total": total}

    network = svc.network
    legs, errors = network.searcher.run(
        network.topology, index_uid, body, local, route="documents/fetch", per_shard=True)
    browse.raise_missing(errors)
    return browse.page(
        legs, asked.offset, asked.limit, asked.fields, asked.sort, asked.retrieve_vectors)


async def _listing(
    request: Request, index_uid: str, asked: Listing, use_network: bool = False
) -> JSONResponse:
    validate_index_uid(index_uid)
    list_page = _list_network if use_network else _list_local
    results, total = await run_in_threadpool(list_page, services(request), index_uid, asked)
    return JSONResponse(
        {"results": results, "offset": asked.offset, "limit": asked.limit, "total": total})


@router.get(
    "/indexes/{index_uid}/documents",
    summary="List documents",
    **doc(responses.DocumentPage, query=(USE_NETWORK_QUERY,)),
)
async def list_documents(
    request: Request, index_uid: str, _: Principal = Depends(guard("documents.get"))
) -> JSONResponse:
    check_utf8(request.scope["query_string"], LISTING_CODES)
    params = request.query_params
    check_params(params, LISTING_FIELDS)
    offset = int_param(params, "offset", 0, "invalid_document_offset")
    limit = int_param(params, "limit", 20, "invalid_document_limit")
    ids = [i for i in params["ids"].split(",") if i] if "ids" in params else None
    asked = Listing(
        offset,
        limit,
        _fields(params.get("fields")),
        params.get("filter"),
        ids,
        _retrieve_vectors(params.get("retrieveVectors")),
        _sort(params["sort"].split(",") if "sort" in params else None),
    )
    use_network = _use_network(request, params.get("useNetwork"), in_query=True)
    return await _listing(request, index_uid, asked, use_network)


def _sort(raw: Any) -> list[str] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(e, str) for e in raw):
        raise wrong_type("sort", "an array of strings", raw, "invalid_document_sort")
    return [e.strip() for e in raw if e.strip()] or None


@router.post(
    "/indexes/{index_uid}/documents/fetch",
    summary="Fetch documents",
    **doc(responses.DocumentPage, requests.DocumentsFetch, body_required=False),
)
async def fetch_documents(
    request: Request, index_uid: str, _: Principal = Depends(guard("documents.get"))
) -> JSONResponse:
    body = require_object(await json_body(request, required=False) or {})
    check_fields(body, LISTING_FIELDS)
    values = {}
    for name, default, code in (
        ("offset", 0, "invalid_document_offset"),
        ("limit", 20, "invalid_document_limit"),
    ):
        values[name] = uint_field(name, body.get(name, default), USIZE, code)
    ids = body.get("ids")
    if ids is not None:
        if not isinstance(ids, list):
            raise wrong_type("ids", "an array", ids, "invalid_document_ids")
        ids = [str(i) for i in ids]
    asked = Listing(
        values["offset"],
        values["limit"],
        _fields(body.get("fields")),
        body.get("filter"),
        ids,
        _retrieve_vectors(body.get("retrieveVectors")),
        _sort(body.get("sort")),
    )
    return await _listing(request, index_uid, asked, _use_network(request, body.get("useNetwork")))


@router.get(
    "/indexes/{index_uid}/documents/{document_id}",
    summary="Get one document",
    **doc(responses.Document, query=(USE_NETWORK_QUERY,)),
)
async def get_document(
    request: Request,
    index_uid: str,
    document_id: str,
    _: Principal = Depends(guard("documents.get")),
) -> JSONResponse:
    validate_index_uid(index_uid)
    check_utf8(request.scope["query_string"], LISTING_CODES)
    params = request.query_params
    check_params(params, ("fields", "retrieveVectors", "useNetwork"))
    fields = _fields(params.get("fields"))
    retrieve_vectors = _retrieve_vectors(params.get("retrieveVectors"))
    svc = services(request)
    if _use_network(request, params.get("useNetwork"), in_query=True):
        one = Listing(0, 1, fields, None, [document_id], retrieve_vectors)
        found, _ = await run_in_threadpool(_list_network, svc, index_uid, one)
        if not found:
            raise DocumentNotFound(document_id)
        return JSONResponse(found[0])

    def load() -> dict[str, Any]:
        with svc.db.read() as conn:
            record = index_rows.get(conn, index_uid)
            if record is None:
                raise IndexNotFound(index_uid)
            body = doc_rows.get(conn, record.id, document_id)
            if body is None:
                raise DocumentNotFound(document_id)
            displayed = record.settings.get("displayedAttributes", ["*"])
            return _project(orjson.loads(body), fields, displayed, retrieve_vectors)

    return JSONResponse(await run_in_threadpool(load))


async def _enqueue_deletion(
    request: Request, index_uid: str, details: dict[str, Any], params: dict[str, Any]
) -> JSONResponse:
    validate_index_uid(index_uid)
    params = {**params, **custom_metadata(request.query_params)}
    origin = forwarded_origin(request)
    if (answer := already_here(request, origin)) is not None:
        return answer
    task = await run_in_threadpool(
        services(request).enqueue, "documentDeletion", index_uid, details, params, (), origin
    )
    return accepted(summary_view(task))



@router.delete(
    "/indexes/{index_uid}/documents/{document_id}",
    summary="Delete one document",
    status_code=202,
    **doc(responses.TaskSummary, status=202),
)
async def delete_document(
    request: Request,
    index_uid: str,
    document_id: str,
    _: Principal = Depends(guard("documents.delete")),
) -> JSONResponse:
    return await _enqueue_deletion(
        request, index_uid, {"providedIds": 1, "deletedDocuments": None}, {"ids": [document_id]}
    )


@router.post(
    "/indexes/{index_uid}/documents/delete-batch",
    summary="Delete documents by id",
    status_code=202,
    **doc(responses.TaskSummary, requests.DocumentIds, status=202),
)
async def delete_batch(
    request: Request, index_uid: str, _: Principal = Depends(guard("documents.delete"))
) -> JSONResponse:
    body = await json_body(request)
    if not isinstance(body, list):
        raise wrong_type("", "an array", body, "bad_request")
    ids = []
    for value in body:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise SiftError(
                f"Document identifier `{shown(value)}` is invalid. A document "
                "identifier can be of type integer or string, only composed of alphanumeric "
                "characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more "
                "than 511 bytes.",
                "invalid_document_id",
            )
        ids.append(str(value))
    return await _enqueue_deletion(
        request, index_uid, {"providedIds": len(ids), "deletedDocuments": None}, {"ids": ids}
    )


@router.post(
    "/indexes/{index_uid}/documents/delete",
    summary="Delete documents by filter",
    status_code=202,
    **doc(responses.TaskSummary, requests.DeleteByFilter, status=202),
)
async def delete_by_filter(
    request: Request, index_uid: str, _: Principal = Depends(guard("documents.delete"))
) -> JSONResponse:
    body = require_object(await json_body(request))
    check_fields(body, ("filter",))
    if body.get("filter") is None:
        raise SiftError("Missing field `filter`", "missing_document_filter")
    filter_expr = body["filter"]
    if _empty_filter(filter_expr):
        # An empty filter matches every document: deleting them all must be asked for
        # explicitly (DELETE /indexes/{uid}/documents), never by an empty expression.
        raise SiftError("Sending an empty filter is forbidden.", "invalid_document_filter")
    # Refuse a bad filter now, as Meilisearch does, instead of failing the task later.
    index = services(request).catalog.find(index_uid)
    if index is not None:
        await run_in_threadpool(index.filter_ids, filter_expr)
    return await _enqueue_deletion(
        request,
        index_uid,
        {
            "providedIds": 0,
            "deletedDocuments": None,
            "originalFilter": orjson.dumps(filter_expr).decode(),
        },
        {"filter": filter_expr},
    )


def _empty_filter(expr: Any) -> bool:
    if isinstance(expr, str):
        return not expr.strip()
    if isinstance(expr, list):
        return all(_empty_filter(part) for part in expr)
    return False


@router.delete(
    "/indexes/{index_uid}/documents",
    summary="Delete all documents",
    status_code=202,
    **doc(responses.TaskSummary, status=202),
)
async def delete_all(
    request: Request, index_uid: str, _: Principal = Depends(guard("documents.delete"))
) -> JSONResponse:
    return await _enqueue_deletion(request, index_uid, {"deletedDocuments": None}, {"all": True})
