"""The public search page: `/` and `/search/{index}`, plus the hashed static assets.

The page is rendered on the server from a GET form, so it works without
JavaScript; `search.js` then takes over for search-as-you-type. Both render
from the same public API call, POST /indexes/{uid}/search, made with a key that
can only search (the Default Search API Key when a master key is set), so the
page can never do more than any visitor's browser could.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sift.http.auth import services
from sift.inputs import USIZE, parse_uint
from sift.storage import keys as key_rows
from sift.ui import IMMUTABLE, UI

router = APIRouter(include_in_schema=False)

PER_PAGE = 10
MARK_START, MARK_END = "\u0002", "\u0003"  # highlight sentinels, turned into <mark> safely
HIDDEN_FIELDS = {"_geo", "_formatted", "_rankingScore", "_vectors"}


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


def default_index(request: Request) -> str | None:
    svc = services(request)
    uids = svc.catalog.uids()
    wanted = svc.config.ui_index
    if wanted:
        return wanted
    if "cities" in uids:
        return "cities"
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
    """What the page's URL asks for: q, f=field:value (repeated), sort, page."""

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
        return (
            [p for p in self.selected if p != pair]
            if pair in self.selected
            else [
                *self.selected,
                pair,
            ]
        )


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


async def call_search(
    request: Request, index_uid: str, body: dict[str, Any], key: str | None
) -> tuple[int, dict[str, Any]]:
    """The public search API, called in-process through the whole app (auth included)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sift.internal") as client:
        response = await client.post(f"/indexes/{index_uid}/search", json=body, headers=headers)
    return response.status_code, response.json()


def marked(text: Any) -> list[tuple[bool, str]]:
    """Split highlighted text into (is_match, text) runs; the template escapes each."""
    runs: list[tuple[bool, str]] = []
    for i, part in enumerate(str(text).split(MARK_START)):
        if i == 0:
            runs.append((False, part))
            continue
        match, _, rest = part.partition(MARK_END)
        runs.append((True, match))
        runs.append((False, rest))
    return [r for r in runs if r[1]]


def humanize(name: str) -> str:
    words = "".join(" " + c.lower() if c.isupper() else c for c in name).replace("_", " ")
    return words.strip().capitalize()


def display(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(display(v) for v in value[:5])
    if isinstance(value, dict):
        return ", ".join(f"{k} {display(v)}" for k, v in list(value.items())[:3])
    return str(value)


def hit_view(hit: dict[str, Any], title: str | None, primary: str | None) -> dict[str, Any]:
    formatted = hit.get("_formatted") or hit
    names = [k for k in hit if k not in HIDDEN_FIELDS and k != primary]
    if title is None:
        title = next((k for k in names if isinstance(hit[k], str)), names[0] if names else None)
    fields = [
        (humanize(k), display(hit[k]))
        for k in names
        if k != title and hit[k] not in (None, "", []) and k != "countryCode"
    ][:6]
    heading = formatted.get(title, hit.get(title, "")) if title else ""
    return {"title": marked(heading), "fields": fields, "id": hit.get(primary or "id", "")}


def conditional(request: Request, response: Response) -> Response:
    """A strong validator over the exact bytes: a reload of an unchanged page is a 304."""
    etag = '"' + hashlib.sha256(response.body).hexdigest()[:20] + '"'
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
    primary = index.primary_key if index else None
    status, result = await call_search(request, index_uid, search_body(state, facets, title), key)
    error = None if status == 200 else result.get("message", "The search failed.")
    stats = result.get("facetStats") or {}
    context = {
        "index": index_uid,
        "state": state,
        "path": path,
        "error": error,
        "key": key or "",
        "result": result if error is None else None,
        "hits": [hit_view(h, title, primary) for h in result.get("hits", [])] if not error else [],
        "facets": [
            (f, humanize(f), list((result.get("facetDistribution") or {}).get(f, {}).items())[:8])
            for f in facets
            if f not in stats
        ],
        "sorts": [(f"{s}:{d}", humanize(s), d) for s in sorts for d in ("desc", "asc")],
        "title_field": title or "",
        "facet_names": facets,
        "humanize": humanize,
    }
    response = view.page(
        "search.html", status=200 if error is None else status, cache="no-cache", **context
    )
    return conditional(request, response)


@router.get("/static/{name}")
async def static(request: Request, name: str) -> Response:
    asset = ui(request).assets.get(name)
    if asset is None:
        return Response("Not Found", status_code=404, media_type="text/plain")
    headers = {"Cache-Control": IMMUTABLE, "ETag": asset.etag, "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
