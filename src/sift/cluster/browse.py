"""`useNetwork` on the document routes: one page of documents out of every shard's.

Each shard is asked once (cluster/fanout.py, one request per shard) for the first
``offset + limit`` documents of its own, restricted with the ``_shard`` filter; the page
is cut from their union. Without ``sort`` the union lists shard after shard in the order
of their names (in a network without shards, remote after remote), each in the order its
node lists them, so that paging is stable whichever replica answers. With ``sort`` the
documents are merged by the sort fields' values (compared as cluster/order.py compares
a search's sort rules), ties in that same shard order. ``total`` is the sum of the
shards' totals. A shard no owner could answer fails the request: a listing missing
documents would look complete.
"""

from __future__ import annotations

from typing import Any

from sift.cluster.fanout import LegResult
from sift.cluster.order import sort_fields, value_key
from sift.errors import SiftError

Page = tuple[list[dict[str, Any]], int]


def leg_body(
    offset: int, limit: int, fields: list[str] | None, sort: list[str] | None,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """The ``documents/fetch`` body each shard is asked: every document that could land
    on the page, with the fields merging compares (taken out again by :func:`page`)."""
    asked = None if fields is None else [*fields, *sort_fields(sort)]
    body = {"offset": 0, "limit": offset + limit, "fields": asked, **extra}
    if sort:
        body["sort"] = sort
    return body


def raise_missing(errors: dict[str, dict[str, Any]]) -> None:
    """The first remote's error when some shard's documents are missing."""
    for error in errors.values():
        raise SiftError(error["message"], error["code"])


def page(
    legs: list[LegResult], offset: int, limit: int, fields: list[str] | None,
    sort: list[str] | None, retrieve_vectors: bool,
) -> Page:
    """The page ``offset``..``offset + limit`` of the shards' documents, and the total."""
    ordered = sorted(legs, key=lambda leg: (leg.shards or (), leg.remote))
    union = [
        (rank, position, document)
        for rank, leg in enumerate(ordered)
        for position, document in enumerate(leg.result["results"])
    ]
    if sort:
        union.sort(key=lambda item: (
            tuple(value_key(item[2], entry) for entry in sort), item[0], item[1]))
    total = sum(int(leg.result.get("total", 0)) for leg in legs)
    documents = [document for _, _, document in union[offset : offset + limit]]
    if fields is not None:
        keep = {*fields, *(("_vectors",) if retrieve_vectors else ())}
        documents = [{k: v for k, v in d.items() if k in keep} for d in documents]
    return documents, total
