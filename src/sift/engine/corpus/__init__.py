"""The corpus statistics BM25F scores with, and what one node counts of them for a query.

* ``stats``: :class:`CorpusStats` (documents, field lengths, per word how many documents
  hold it), added up across shards (:func:`add`);
* ``query``: one node's statistics for one query, over the shards it is asked for
  (:func:`~sift.engine.corpus.query.query_statistics`). Not re-exported here: it runs the
  search's matching (sift.engine.pipeline), whose modules import this package's
  statistics, so importing it here would make them import themselves half-loaded.
"""

from __future__ import annotations

from sift.engine.corpus.stats import CorpusStats, WordFacts, add

__all__ = ["CorpusStats", "WordFacts", "add"]
