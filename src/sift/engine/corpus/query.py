"""One node's corpus statistics for one query (engine/corpus/stats.py): what the search would
count, over the documents of the shards it is asked for."""

from __future__ import annotations

from dataclasses import replace

from sift.engine.corpus.stats import (
    CorpusStats,
    WordFacts,
    occurrences_in,
    of_documents,
    with_words,
)
from sift.engine.partition import SHARD_FIELD, shard_filter
from sift.engine.pipeline.lexical import LexicalCandidates, match
from sift.engine.pipeline.request import parse
from sift.engine.query import SearchParams
from sift.engine.select import filter_mask
from sift.engine.store import IndexView


def query_statistics(view: IndexView, params: SearchParams, shards: tuple[str, ...] | None
                     ) -> CorpusStats:
    """The statistics of ``params``' query over the documents of ``shards`` (None, or an
    index holding no shard labels: every document ``view`` holds)."""
    snap = view.snapshot
    scoped = shards is not None and SHARD_FIELD in view.field_store.filterable
    where = shard_filter(shards) if scoped and shards is not None else None

    def documents() -> CorpusStats:
        scope = snap.alive if where is None else filter_mask(view, snap, where)
        return of_documents(snap.field_names, snap.field_len, scope)

    # The same few shard sets are asked over and over: counted once per snapshot.
    counted = snap.cached_lru(f"corpus:{where}", documents)
    matched = match(parse(view, params), [], None)
    words, inp = (matched.words, None) if isinstance(matched, LexicalCandidates) else matched
    facts = [w.facts or WordFacts() for w in words]
    if where is not None:  # the occurrences in other shards this node holds do not count
        scope = filter_mask(view, snap, where)
        facts = [replace(f, occurrences=occurrences_in(snap, w.text, scope))
                 for f, w in zip(facts, words, strict=True)]
    return with_words(counted, inp, facts)
