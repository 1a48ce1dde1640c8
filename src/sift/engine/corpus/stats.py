"""The corpus statistics BM25F scores with, as a plain input.

The ``relevance`` rule weighs a query word by how many documents hold it among how many
there are, and a field's length against the average length of that field. A node that
holds one shard knows only its shard's figures, so its scores differ from those of a
node holding every document; a word's expansion (typo variants or not) also depends on
how often the word occurs. A search across shards first gathers each shard's figures for
the query (:func:`of_documents`, :func:`with_words`; engine/corpus/query.py), adds them
(:func:`add`) and hands the sum to every shard's search (``SearchParams.statistics``):
each document then gets the score one node holding all of them would give it
(Elasticsearch calls this DFS query-then-fetch).

Sums of whole numbers, so adding them in any order gives the single node's figures to
the last bit. Each node counts under its own expansion of a word, before the sum says
how the word is expanded: it counts in slots (:func:`word_counts`) from which the node
scoring picks the ones that expansion needs (:meth:`CorpusStats.counts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sift.engine.frozen import quick_init
from sift.errors import SiftError

if TYPE_CHECKING:
    from sift.engine.ranking import RankInput
    from sift.engine.store import Snapshot

FULL_WEIGHT = np.float32(0.99)  # an occurrence at this weight is the word itself (kernels/)
CLOSEST_NONE = 99  # WordFacts.closest of a word without typo variants
# How a word was expanded, by every shard's WordFacts (QueryWord.decision): trusted as
# spelled (no typo variants), with typo variants, or unknown: its 1- or 2-typo variants.
TRUSTED, TYPOS = -1, 0
# A ranked word's document counts, as (full weight, any) pairs in these slots: each node
# counts under its own expansion, the node scoring picks the slots of the expansion every
# shard's facts decide (:meth:`CorpusStats.counts`).
_BASE, _KNOWN, _UNKNOWN_BASE, _ONE, _ONE_BASE, _TWO, _TWO_BASE = range(7)
SLOTS = 14


@quick_init
@dataclass(frozen=True)
class WordFacts:
    """What a query word's expansion decides by counting the corpus (expand.py): its own
    occurrences (a word seen ``trusted_count`` times gets no typo variants), whether any
    term but a typo matched it (none: an unknown word, which keeps only its closest
    variants), and the fewest typos among an unknown word's variants."""

    occurrences: int = 0
    known: bool = True
    closest: int = CLOSEST_NONE

    def __add__(self, other: WordFacts) -> WordFacts:
        return WordFacts(self.occurrences + other.occurrences, self.known or other.known,
                         min(self.closest, other.closest))


@dataclass(frozen=True)
class CorpusStats:
    documents: int  # live documents in scope
    # Per field name: (its length summed over documents, documents where it is not empty).
    fields: dict[str, tuple[int, int]]
    # Per ranked query word, in the order the search ranks them: documents holding it at
    # full weight and at all, in SLOTS (see word_counts).
    words: tuple[tuple[int, ...], ...]
    # Per query word as parsed (before stop words are dropped from a long query), what
    # its expansion counted; empty: each node expands with its own counts.
    terms: tuple[WordFacts, ...] = ()

    def counts(self, word: int, decision: int) -> tuple[int, int]:
        """(documents with the word at full weight, with it at all) under ``decision``."""
        slots = self.words[word]

        def pair(k: int) -> np.ndarray:
            return np.array(slots[2 * k: 2 * k + 2], dtype=np.int64)

        if decision == TYPOS:
            total = pair(_KNOWN) + pair(_UNKNOWN_BASE)
        elif decision in (1, 2):
            own, base = (_ONE, _ONE_BASE) if decision == 1 else (_TWO, _TWO_BASE)
            total = pair(own) + pair(_UNKNOWN_BASE) - pair(base)
        else:
            total = pair(_BASE)
        return int(total[0]), int(total[1])

    def document_frequency(self, word: int, decision: int) -> int:
        """The df BM25F reads: documents with the word itself, else with any variant."""
        full, any_ = self.counts(word, decision)
        return full if full > 0 else any_

    def matches(self, word: int, decision: int) -> bool:
        return self.counts(word, decision)[1] > 0

    def avg_field_len(self, names: list[str], own: np.ndarray) -> np.ndarray:
        """Average length per field id of a snapshot whose fields are ``names`` (as
        ``Snapshot.avg_field_len`` computes it); a field no shard knows keeps ``own``."""
        avg = own.copy()
        for i, name in enumerate(names[: avg.size]):
            known = self.fields.get(name)
            if known is not None:
                total, present = known
                avg[i] = max(total / max(present, 1), 1.0)
        return avg

    def to_json(self) -> dict[str, Any]:
        return {"documents": self.documents,
                "fields": {k: list(v) for k, v in self.fields.items()},
                "words": [list(w) for w in self.words],
                "terms": [[t.occurrences, int(t.known), t.closest] for t in self.terms]}

    @classmethod
    def from_json(cls, raw: Any) -> CorpusStats:
        try:
            fields = {str(k): (_count(v[0]), _count(v[1])) for k, v in raw["fields"].items()}
            words = tuple(_slots(w) for w in raw["words"])
            terms = tuple(WordFacts(_count(t[0]), bool(_count(t[1])), _count(t[2]))
                          for t in raw.get("terms") or ())
            return cls(_count(raw["documents"]), fields, words, terms)
        except (KeyError, IndexError, TypeError, AttributeError, ValueError):
            raise SiftError(
                "Invalid corpus statistics: expected `documents`, `fields`, `words` and "
                "`terms` counts.", "bad_request") from None


def _slots(raw: Any) -> tuple[int, ...]:
    if len(raw) != SLOTS:
        raise ValueError(raw)
    return tuple(_count(v) for v in raw)


def word_counts(base: tuple[int, int], own: tuple[int, int], facts: WordFacts
                ) -> tuple[int, ...]:
    """A node's counts of one ranked word in SLOTS: ``own`` under its own expansion,
    ``base`` over its terms without typos (what it would match with no typo variants),
    placed by what its own ``facts`` decided."""
    pairs = [(0, 0)] * 7
    pairs[_BASE] = base
    if facts.known:
        pairs[_KNOWN] = own
    else:
        pairs[_UNKNOWN_BASE] = base
        if facts.closest in (1, 2):
            pairs[_ONE if facts.closest == 1 else _TWO] = own
            pairs[_ONE_BASE if facts.closest == 1 else _TWO_BASE] = base
    return tuple(n for pair in pairs for n in pair)


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(value)
    return value


def add(parts: list[CorpusStats]) -> CorpusStats:
    """The statistics of the union of disjoint document sets. Every part must come from
    the same query under the same settings (the same ranked words): ValueError if not."""
    if not parts:
        raise ValueError("no statistics to add")
    n_words, n_terms = len(parts[0].words), len(parts[0].terms)
    if any(len(p.words) != n_words or len(p.terms) != n_terms for p in parts):
        raise ValueError("the parts ranked different query words")
    fields: dict[str, tuple[int, int]] = {}
    for part in parts:
        for name, (total, present) in part.fields.items():
            was = fields.get(name, (0, 0))
            fields[name] = (was[0] + total, was[1] + present)
    words = tuple(tuple(int(n) for n in np.sum([p.words[i] for p in parts], axis=0))
                  for i in range(n_words))
    terms = tuple(sum((p.terms[i] for p in parts[1:]), parts[0].terms[i])
                  for i in range(n_terms))
    return CorpusStats(sum(p.documents for p in parts), fields, words, terms)


def of_documents(names: list[str], field_len: np.ndarray, scope: np.ndarray) -> CorpusStats:
    """The statistics of the live documents of ``scope`` (a bool mask: the shards asked
    of this node) that do not depend on the query: documents and field lengths."""
    lengths = field_len[scope]
    totals = lengths.sum(axis=0, dtype=np.float64)  # whole numbers: exact in float64
    present = (lengths > 0).sum(axis=0)
    fields = {name: (int(totals[i]), int(present[i]))
              for i, name in enumerate(names[: lengths.shape[1]])}
    return CorpusStats(int(scope.sum()), fields, ())


def with_words(documents: CorpusStats, inp: RankInput | None, facts: list[WordFacts]
               ) -> CorpusStats:
    """``documents`` with each ranked word's document counts among the search's
    candidates (``inp``; None: the query has no words) and each query word's ``facts``."""
    words: list[tuple[int, ...]] = []
    if inp is not None:
        feats = inp.feats
        bounds = feats.offsets.tolist()
        seen = np.zeros(feats.cands.size, dtype=bool)

        def distinct(index: np.ndarray) -> int:
            """Candidates among ``index`` (candidate positions, repeated)."""
            seen[:] = False
            seen[index] = True
            return int(np.count_nonzero(seen))

        for w, occ in enumerate(inp.occs):
            index = feats.index_all[bounds[w]:bounds[w + 1]]
            full, base = occ.weight >= FULL_WEIGHT, occ.typos == 0
            words.append(word_counts(
                (distinct(index[full & base]), distinct(index[base])),
                (distinct(index[full]), distinct(index)),
                inp.words[w].facts or WordFacts()))
    return CorpusStats(documents.documents, documents.fields, tuple(words), tuple(facts))


def occurrences_in(snap: Snapshot, term: str, scope: np.ndarray) -> int:
    """Occurrences of ``term`` in the documents of ``scope``, as ``WordFacts.occurrences``
    counts them over a whole snapshot (for a node asked for only some of its shards)."""
    tid = snap.term_id(term)
    if tid is None:
        return 0
    count = 0
    for seg in snap.segments:
        if tid + 1 < seg.term_ptr.size:
            docs = seg.docs[int(seg.term_ptr[tid]):int(seg.term_ptr[tid + 1])]
            count += int(np.count_nonzero(scope[docs]))
    return count
