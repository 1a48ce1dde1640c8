"""One upsert batch's words and values, computed for the batch at once when indexing.

* ``postings``: the batch's word occurrences (:func:`batch_postings`);
* ``values``: the batch's searchable values as texts, in document order
  (:func:`batch_values`).
"""

from __future__ import annotations

from sift.engine.batch.postings import batch_postings
from sift.engine.batch.values import batch_values

__all__ = ["batch_postings", "batch_values"]
