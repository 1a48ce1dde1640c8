"""Filterable and sortable field values: filters evaluated, facets counted, sort keys, geo.

One index's field data, by concern:

* ``store``: :class:`FieldStore`, per indexed field path its values, and the entry point
  (filter evaluation, facet distribution and search, sort keys, ``_geo``);
* ``groups``: one field's value structures (value -> docids) and BitMap <-> numpy;
* ``facets``: facet distribution and facet search over those structures;
* ``geo``: ``_geo`` points, radius and bounding-box filters, distances for geo sorting;
* ``values``: how a document's fields become facet entries (flattening, numbers).

Code outside the engine imports from this package; engine modules import the module
they need (sift.engine.fields.groups, ...), which keeps the packages free of cycles.
"""

from __future__ import annotations

from sift.engine.fields.store import FieldStore

__all__ = ["FieldStore"]
