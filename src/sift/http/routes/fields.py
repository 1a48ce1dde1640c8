"""POST /indexes/{uid}/fields: every field of an index with what its settings make of it."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from sift.errors import IndexNotFound
from sift.http.auth import guard, services
from sift.http.responses import (
    JSONResponse,
    check_fields,
    json_body,
    require_object,
    validate_index_uid,
    wrong_type,
)
from sift.http.schemas import doc, requests, responses
from sift.inputs import USIZE, uint_field
from sift.ops.keys import Principal
from sift.storage import indexes as index_rows

router = APIRouter(tags=["Indexes"])

RESERVED_VECTORS = "_vectors"
FILTER_FLAGS = ("displayed", "searchable", "sortable", "filterable", "rankingRule", "distinct")


def _matches(patterns: list[str], field: str) -> bool:
    """Setting patterns cover a field itself, its nested fields (`a` covers `a.b`) and globs."""
    return any(
        pattern == "*"
        or pattern == field
        or field.startswith(pattern + ".")
        or ("*" in pattern and fnmatchcase(field, pattern))
        for pattern in patterns
    )


def _filterable(settings: dict[str, Any], field: str) -> dict[str, Any]:
    sort_by = settings.get("faceting", {}).get("sortFacetValuesBy", {})
    view = {
        "enabled": False,
        "sortBy": sort_by.get(field, sort_by.get("*", "alpha")),
        "facetSearch": False,
        "equality": False,
        "comparison": False,
    }
    for rule in settings.get("filterableAttributes", []):
        if isinstance(rule, str):
            # A plain name enables every filter feature, and facet search where the index has it.
            if _matches([rule], field):
                facet_search = bool(settings.get("facetSearch", True))
                view.update(enabled=True, facetSearch=facet_search, equality=True, comparison=True)
                break
        elif _matches(rule.get("attributePatterns", []), field):
            features = rule.get("features", {})
            filters = features.get("filter", {})
            view.update(
                enabled=True,
                facetSearch=bool(features.get("facetSearch", False)),
                equality=bool(filters.get("equality", True)),
                comparison=bool(filters.get("comparison", False)),
            )
            break
    return view


def _ranking_order(settings: dict[str, Any], field: str) -> str | None:
    for rule in settings.get("rankingRules", []):
        name, _, order = str(rule).rpartition(":")
        if name == field and order in ("asc", "desc"):
            return order
    return None


def _locales(settings: dict[str, Any], field: str) -> list[str]:
    for rule in settings.get("localizedAttributes") or []:
        if _matches(rule.get("attributePatterns", []), field):
            return list(rule.get("locales", []))
    return []


def field_view(settings: dict[str, Any], field: str) -> dict[str, Any]:
    return {
        "name": field,
        "displayed": {"enabled": _matches(settings.get("displayedAttributes", ["*"]), field)},
        "searchable": {"enabled": _matches(settings.get("searchableAttributes", ["*"]), field)},
        "sortable": {"enabled": _matches(settings.get("sortableAttributes", []), field)},
        "distinct": {"enabled": settings.get("distinctAttribute") == field},
        "rankingRule": {"order": _ranking_order(settings, field)},
        "filterable": _filterable(settings, field),
        "localized": {"locales": _locales(settings, field)},
    }


def _keep(view: dict[str, Any], wanted: dict[str, Any]) -> bool:
    patterns = wanted.get("attributePatterns")
    if patterns is not None:
        listed = [patterns] if isinstance(patterns, str) else list(patterns)
        if not _matches(listed, view["name"]):
            return False
    for flag in FILTER_FLAGS:
        if wanted.get(flag) is None:
            continue
        state = view[flag]
        has = state["order"] is not None if flag == "rankingRule" else state["enabled"]
        if has != wanted[flag]:
            return False
    return True


def _page_arg(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name)
    return default if value is None else uint_field(name, value, USIZE, f"invalid_index_{name}")


@router.post(
    "/indexes/{index_uid}/fields",
    summary="List an index's fields and their settings",
    **doc(responses.FieldPage, requests.IndexFields, body_required=False),
)
async def list_fields(
    request: Request, index_uid: str, _: Principal = Depends(guard("indexes.get"))
) -> JSONResponse:
    validate_index_uid(index_uid)
    body = require_object(await json_body(request, required=False) or {})
    check_fields(body, ("offset", "limit", "filter"))
    offset = _page_arg(body, "offset", 0)
    limit = _page_arg(body, "limit", 20)
    wanted = body.get("filter") or {}
    if not isinstance(wanted, dict):
        raise wrong_type("filter", "an object", wanted, "bad_request")
    check_fields(wanted, ("attributePatterns", *FILTER_FLAGS))
    svc = services(request)

    def load() -> list[dict[str, Any]]:
        with svc.db.read() as conn:
            record = index_rows.get(conn, index_uid)
        if record is None:
            raise IndexNotFound(index_uid)
        index = svc.catalog.find(index_uid)
        names = sorted(index.field_distribution()) if index is not None else []
        # Embeddings are a reserved field, not one that settings apply to.
        names = [n for n in names if n != RESERVED_VECTORS]
        views = (field_view(record.settings, name) for name in names)
        return [view for view in views if _keep(view, wanted)]

    matching = await run_in_threadpool(load)
    return JSONResponse(
        {
            "results": matching[offset : offset + limit],
            "offset": offset,
            "limit": limit,
            "total": len(matching),
        }
    )
