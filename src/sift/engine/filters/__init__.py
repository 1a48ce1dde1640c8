"""Meilisearch's filter language: the parser, the tree it produces, its geo calls.

* ``parse``: string or array form in, a tree out (:func:`parse_filter`), with the
  ``invalid_search_filter`` errors;
* ``tree``: the filter tree's nodes, walked by the field store and by
  :func:`ensure_filterable`;
* ``geo``: the arguments of ``_geoRadius(...)`` and ``_geoBoundingBox(...)``.

Evaluation lives with the values it reads (sift.engine.fields).
"""

from __future__ import annotations

from sift.engine.filters.parse import parse_filter
from sift.engine.filters.tree import FilterNode, ensure_filterable, filter_attributes

__all__ = ["FilterNode", "ensure_filterable", "filter_attributes", "parse_filter"]
