"""The public search page: `/` and `/search/{index}`, plus the hashed static assets.

The page is rendered on the server from a GET form, so it works without JavaScript;
`search.js` then adds search-as-you-type by fetching the same page for the new URL and
swapping its results in, so there is one rendering of results, facets and states. The
page searches through the public API, POST /indexes/{uid}/search (and /facet-search),
called in-process with a key that can only search (the Default Search API Key when a
master key is set), so it can never do more than any visitor's browser could.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote as quote_url
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sift import demo
from sift.engine.query import SearchParams, normalise_query
from sift.errors import SiftError
from sift.http.auth import services
from sift.http.responses import check_fields, json_body, require_object
from sift.inputs import USIZE, parse_uint
from sift.insights import load_rules, parse_event
from sift.storage import keys as key_rows
from sift.storage import tasks as task_rows
from sift.storage.database import utcnow
from sift.ui import IMMUTABLE, UI
from sift.ui.results import (
    HIDDEN_FIELDS,
    MARK_END,
    MARK_START,
    Facet,
    code_runs,
    facet_view,
    hit_view,
    humanize,
    value_label,
)

router = APIRouter(include_in_schema=False)

PER_PAGE = 10
FACET_VALUES = 100  # values a facet search answers at most


def ui(request: Request) -> UI:
    app_state = request.app.state
    if not hasattr(app_state, "ui"):
        app_state.ui = UI(services(request).config.ui_dir)
    return app_state.ui


def search_key(request: Request) -> str | None:
    """A key that can only search: the Default Search API Key (None when Sift runs open)."""
    svc = services(request)
    if not svc.config.master_key:
        return None
    with svc.db.read() as conn:
        records = key_rows.all_records(conn)
    for record in records:
        if record.actions == ["search"] and record.name == "Default Search API Key":
            return svc.keys.key_value(record)
    for record in records:  # any other search-only key with access to every index
        if record.actions == ["search"] and record.indexes == ["*"] and not record.expires_at:
            return svc.keys.key_value(record)
    return None


def pending_tasks(request: Request, index_uid: str) -> int:
    """Tasks of the index not run yet: while it is being built, "0 results" would mislead."""
    with services(request).db.read() as conn:
        flt = task_rows.TaskFilter(statuses=["enqueued", "processing"], index_uids=[index_uid])
        return len(task_rows.matching_uids(conn, flt))


def default_index(request: Request) -> str | None:
    svc = services(request)
    uids = svc.catalog.uids()
    wanted = svc.config.ui_index
    if wanted:
        return wanted
    if demo.INDEX in uids:
        return demo.INDEX
    return uids[0] if uids else None


def facet_fields(request: Request, index_uid: str) -> list[str]:
    index = services(request).catalog.find(index_uid)
    if index is None:
        return []
    names = index.settings.get("filterableAttributes") or []
    return [n for n in names if isinstance(n, str) and "*" not in n and n not in HIDDEN_FIELDS]


def sort_fields(request: Request, index_uid: str) -> list[str]:
    index = services(request).catalog.find(index_uid)
    names = index.settings.get("sortableAttributes") or [] if index else []
    return [n for n in names if isinstance(n, str) and n not in HIDDEN_FIELDS]


def title_field(request: Request, index_uid: str) -> str | None:
    index = services(request).catalog.find(index_uid)
    searchable = index.settings.get("searchableAttributes") if index else None
    if searchable and searchable != ["*"]:
        return str(searchable[0])
    return None


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_expression(selected: list[tuple[str, str]]) -> list[Any] | None:
    """Values of one facet are ORed, facets are ANDed (Meilisearch's array form)."""
    by_field: dict[str, list[str]] = {}
    for field, value in selected:
        by_field.setdefault(field, []).append(value)
    if not by_field:
        return None
    return [[f"{quote(f)} = {quote(v)}" for v in values] for f, values in by_field.items()]


class State:
    """What the page's URL asks for: q, f=field:value (repeated), sort, page, and a search
    among one facet's values (facet=field, fq=text)."""

    def __init__(self, request: Request, facets: list[str], sorts: list[str]) -> None:
        params = request.query_params
        self.q = params.get("q", "")[:512]
        self.selected: list[tuple[str, str]] = []
        for raw in params.getlist("f"):
            field, sep, value = raw.partition(":")
            if sep and field in facets and (field, value) not in self.selected:
                self.selected.append((field, value))
        sort = params.get("sort", "")
        self.sort = sort if sort.rpartition(":")[0] in sorts else ""
        page = parse_uint(params.get("page", "1"), USIZE) or 1
        self.page = min(page, 1000)
        facet = params.get("facet", "")
        self.facet = facet if facet in facets else ""
        self.fq = params.get("fq", "")[:128] if self.facet else ""

    def href(self, path: str, **change: Any) -> str:
        q = change.get("q", self.q)
        selected = change.get("selected", self.selected)
        sort = change.get("sort", self.sort)
        page = change.get("page", 1)
        pairs: list[tuple[str, str]] = [("q", q)] if q else []
        pairs += [("f", f"{f}:{v}") for f, v in selected]
        if sort:
            pairs.append(("sort", sort))
        if page > 1:
            pairs.append(("page", str(page)))
        return path + ("?" + urlencode(pairs) if pairs else "")

    def toggled(self, field: str, value: str) -> list[tuple[str, str]]:
        pair = (field, value)
        if pair in self.selected:
            return [p for p in self.selected if p != pair]
        return [*self.selected, pair]

    def values_of(self, field: str) -> list[str]:
        return [v for f, v in self.selected if f == field]


def search_body(state: State, facets: list[str], title: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "q": state.q,
        "page": state.page,
        "hitsPerPage": PER_PAGE,
        "facets": facets,
        "attributesToHighlight": [title] if title else ["*"],
        "highlightPreTag": MARK_START,
        "highlightPostTag": MARK_END,
    }
    expression = filter_expression(state.selected)
    if expression:
        body["filter"] = expression
    if state.sort:
        body["sort"] = [state.sort]
    return body


def facet_search_body(state: State) -> dict[str, Any]:
    """The values of one facet matching `fq`, among the documents the other facets' filters
    leave (not this facet's own: the point is to add values to it)."""
    body: dict[str, Any] = {"facetName": state.facet, "facetQuery": state.fq, "q": state.q}
    expression = filter_expression([(f, v) for f, v in state.selected if f != state.facet])
    if expression:
        body["filter"] = expression
    return body


async def call_api(
    request: Request, path: str, body: dict[str, Any], key: str | None, metadata: bool = False
) -> tuple[int, dict[str, Any]]:
    """The public search API, called in-process through the whole app (auth included);
    `metadata`: ask for the query uid the page's click events name."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if metadata:
        headers["Meili-Include-Metadata"] = "true"
    import httpx  # the pages' in-process calls: loaded at the first page served

    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sift.internal") as client:
        response = await client.post(path, json=body, headers=headers)
    return response.status_code, response.json()


def status_text(state: State, result: dict[str, Any], cap: int) -> str:
    total = result.get("totalHits") or 0
    count = f"More than {cap:,} results" if total >= cap > 0 else f"{total:,} result"
    if not count.endswith("results") and total != 1:
        count += "s"
    return count + (f" for “{state.q}”" if state.q else "")


def conditional(request: Request, response: Response, volatile: str | None = None) -> Response:
    """A validator over the page's bytes: a reload of an unchanged page is a 304. The
    `volatile` text (the search's query uid, new on every search) is left out, so a reload
    still is a 304; the browser's copy then names the earlier search of the same query."""
    body = bytes(response.body)
    if volatile:
        body = body.replace(volatile.encode(), b"")
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    response.headers["ETag"] = etag
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
    return response


@router.get("/")
async def home(request: Request) -> Response:
    uid = default_index(request)
    return await search_page(request, uid)


@router.get("/search/{index_uid}")
async def index_page(request: Request, index_uid: str) -> Response:
    return await search_page(request, index_uid)


async def search_page(request: Request, index_uid: str | None) -> Response:
    view = ui(request)
    path = request.url.path
    if index_uid is None:
        empty = view.page("search.html", cache="no-cache", index=None, state=None, path=path)
        return conditional(request, empty)
    facets = facet_fields(request, index_uid)
    sorts = sort_fields(request, index_uid)
    title = title_field(request, index_uid)
    state = State(request, facets, sorts)
    key = await run_in_threadpool(search_key, request)
    index = services(request).catalog.find(index_uid)
    uid = quote_url(index_uid, safe="")
    status, result = await call_api(
        request,
        f"/indexes/{uid}/search",
        search_body(state, facets, title),
        key,
        metadata=clicks_recorded(request),
    )
    suggestions = await popular_searches(request, index_uid, state.q) if status == 200 else []
    pending = await run_in_threadpool(pending_tasks, request, index_uid)
    building = pending > 0 and (index is None or index.document_count() == 0)
    error = None if status == 200 or building else result.get("message", "The search failed.")
    ok = status == 200
    found = (
        await call_api(request, f"/indexes/{uid}/facet-search", facet_search_body(state), key)
        if ok and state.facet and state.fq
        else (0, {})
    )[1]
    distribution = result.get("facetDistribution") or {} if ok else {}
    stats = result.get("facetStats") or {} if ok else {}
    views: dict[str, Facet] = {}
    for field in facets:
        if field in stats:  # numbers (population...): not a list of values to pick from
            continue
        if field == state.facet and state.fq:
            counts = {str(h["value"]): h["count"] for h in found.get("facetHits", [])}
            views[field] = facet_view(field, counts, state.values_of(field), state.fq)
        else:
            counts = distribution.get(field, {})
            views[field] = facet_view(field, counts, state.values_of(field))
    cap = (index.settings.get("pagination") or {}).get("maxTotalHits", 0) if index else 0
    hits = result.get("hits", []) if ok else []
    primary = index.primary_key if index else None
    context = {
        "index": index_uid,
        "state": state,
        "path": path,
        "error": code_runs(error) if error else None,
        "building": building,
        "result": result if ok else None,
        "status_text": status_text(state, result, cap) if ok and not building else "",
        "hits": [hit_view(h, title, primary) for h in hits],
        "query_uid": (result.get("metadata") or {}).get("queryUid") if ok else None,
        "suggestions": suggestions,
        "offset": (state.page - 1) * PER_PAGE,  # hits' positions, as click events count them
        "facets": [f for f in views.values() if f.values],
        "chips": [(f, humanize(f), v, value_label(v, views.get(f))) for f, v in state.selected],
        "sorts": [(f"{s}:{d}", humanize(s), d) for s in sorts for d in ("desc", "asc")],
        "placeholder": "e.g. paris, tokyo, capital" if index_uid == demo.INDEX else "",
    }
    code = 200 if error is None else status
    response = view.page("search.html", status=code, cache="no-cache", **context)
    return conditional(request, response, context["query_uid"])


SUGGESTIONS = 5  # popular searches shown under the box


async def popular_searches(request: Request, index_uid: str, q: str) -> list[str]:
    """Popular searches starting like `q`, from the index's query suggestions when it has a
    rule. Searched in-process, not through the API: a page view is one search in the log."""
    svc = services(request)
    rule = (await run_in_threadpool(load_rules, svc.db)).get(index_uid)
    destination = svc.catalog.find(rule.destination) if rule else None
    if destination is None:
        return []
    body = {"q": q, "limit": SUGGESTIONS + 1, "attributesToRetrieve": ["q"]}
    params = SearchParams.from_dict(body)
    found = await run_in_threadpool(destination.search, params)
    typed = normalise_query(q)
    texts = [hit["q"] for hit in found.get("hits", []) if isinstance(hit.get("q"), str)]
    return [t for t in texts if t != typed][:SUGGESTIONS]


def clicks_recorded(request: Request) -> bool:
    """Whether this visitor's clicks may be recorded: analytics on, and no Do-Not-Track
    or Global Privacy Control signal (the page's script checks them too)."""
    analytics = services(request).analytics
    if analytics is None or not analytics.enabled:
        return False
    headers = request.headers
    return headers.get("dnt") != "1" and headers.get("sec-gpc") != "1"


@router.post("/search/{index_uid}/click")
async def page_click(request: Request, index_uid: str) -> Response:
    """A click on one of the search page's results, sent by its script (navigator
    sendBeacon): `{queryUid, objectId, position, session}`. The page holds no API key, so
    it cannot call `POST /events`; this route records the same event for the page's own
    index, and nothing when the visitor asks not to be tracked."""
    if not clicks_recorded(request):
        return Response(status_code=204)
    body = require_object(await json_body(request))
    check_fields(body, ("queryUid", "objectId", "position", "session"))
    event = parse_event(
        {
            "eventType": "click",
            "eventName": "Search Result Clicked",
            "indexUid": index_uid,
            "userId": body.get("session"),
            **{k: body[k] for k in ("queryUid", "objectId", "position") if k in body},
        },
        None,
        utcnow(),
    )
    if services(request).catalog.find(index_uid) is None:
        raise SiftError(f"Index `{index_uid}` not found.", "index_not_found")
    analytics = services(request).analytics
    assert analytics is not None  # clicks_recorded checked it
    analytics.record_event(event)
    return Response(status_code=204)


@router.get("/static/{name}")
async def static(request: Request, name: str) -> Response:
    asset = ui(request).assets.get(name)
    if asset is None:
        return Response("Not Found", status_code=404, media_type="text/plain")
    headers = {"Cache-Control": IMMUTABLE, "ETag": asset.etag, "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
