"""Query words and their expansions: exact, prefix, typo, stem, synonym, concatenation.

A query word becomes a small table of vocabulary term ids, each with a typo
count, an exactness flag and a relevance weight. Everything here loops over
query words and vocabulary slices handled by numpy/rapidfuzz, never over
documents.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Final, NamedTuple

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from sift.engine.analysis import ENGLISH_STOP_WORDS, Analyzer, normalize, stem_word
from sift.engine.corpus.stats import TRUSTED, TYPOS, WordFacts
from sift.engine.grams import counts_typed
from sift.engine.kernels import (
    SHORTLIST_LETTERS,
    expansion_table,
    fresh_entries,
    live_rows_per_term,
    prefix_completions,
    typed_word_hits,
    typed_word_shortlists,
    typo_hits,
)
from sift.engine.store import LRU, Snapshot
from sift.engine.terms import TermTable
from sift.engine.topk import largest_k
from sift.engine.vocab import NOT_LOOKED_UP

MAX_PREFIX_TERMS: Final = 200  # most frequent completions kept for a prefix
MAX_TYPO_TERMS: Final = 50

# Relevance weights of the expansion kinds (tuned in benchmarks/tune).
W_EXACT: Final = 1.0
W_STEM: Final = 1.0
W_SYNONYM: Final = 0.9
W_CONCAT: Final = 0.8
W_PREFIX: Final = 0.6
W_TYPO: Final = (1.0, 0.45, 0.25)
_TYPO_WEIGHTS: Final = np.asarray(W_TYPO, dtype=np.float32)  # by typos (never written to)


# An empty table, shared by every word (never written to: a table grows into new arrays;
# not flagged read-only, as kernels are compiled for writable arrays).
_NO_ROWS = np.empty((0, 4), dtype=np.float64)
_NO_TERMS = np.empty(0, dtype=np.int64)
_NO_TYPOS = np.empty(0, dtype=np.int8)
_NO_WEIGHTS = np.empty(0, dtype=np.float32)


@dataclass
class QueryWord:
    text: str  # normalized word (or phrase words joined by spaces)
    index: int  # order in the query
    is_prefix: bool = False
    phrase: list[str] | None = None  # quoted phrase or split word, matched consecutively
    stop: bool = False  # an English stop word (relevance prior only)
    quoted: bool = False  # written in quotes: the matching strategy never drops it
    count: int = 1  # times the word occurs in the query (collapse_repeats)
    alt_phrases: list[list[str]] = field(default_factory=list)  # multi-word synonyms, splits
    highlight_prefix: str | None = None
    facts: WordFacts | None = None  # what this snapshot's counts decided (corpus.py)
    # Absent from this snapshot but not from every shard's (a known word is not split).
    known_elsewhere: bool = False
    # How every shard's facts had it expanded (corpus.py), when they were given.
    decision: int = TRUSTED
    # The expansion table: a row per term, (term id, typos, exact, weight) as float64 (a
    # term id below 2**53, a typo count, 0/1 and a float32 weight are each exact there).
    # One array a word: a search joins its words' tables in one concatenation
    # (term_table), where four per word cost ~1 µs a word, and a word's own expansions
    # arrive in one step (_expand_word), where Python lists made every first sight
    # convert its few hundred entries. Never written in place: a cached expansion shares
    # it with every query applying it.
    _rows: np.ndarray = field(default_factory=lambda: _NO_ROWS, repr=False)
    _any_exact: bool = field(default=False, repr=False)
    # Highlighted words: those named so far, and term ids whose terms are named when the
    # words are first read (most searches never highlight: typo variants' terms are only
    # looked up then), in ``_terms`` (the snapshot's term table).
    _named: set[str] = field(default_factory=set, repr=False)
    _unnamed: np.ndarray | None = field(default=None, repr=False)
    _terms: TermTable | None = field(default=None, repr=False)

    @property
    def highlight_words(self) -> set[str]:
        if self._unnamed is not None:
            assert self._terms is not None
            self._named.update(map(self._terms.__getitem__, self._unnamed.tolist()))
            self._unnamed = None
        return self._named

    @highlight_words.setter
    def highlight_words(self, words: set[str]) -> None:
        self._named, self._unnamed = words, None

    def add(self, ids: Any, typos: int | np.ndarray, exact: bool, weight: float | np.ndarray,
            words: list[str]) -> None:
        """Add expansion terms; a term already in the table keeps its first entry."""
        if len(ids) == 1 and not isinstance(typos, np.ndarray) and \
                not isinstance(weight, np.ndarray):
            self._add_one(int(ids[0]), typos, exact, weight, words)
            return
        ids = np.asarray(ids, dtype=np.int64)
        n = ids.size
        if not n:
            return
        fresh = fresh_entries(ids, self.term_ids)
        self._any_exact |= exact and bool(fresh.any())
        if words:
            self.highlight_words.update(w for w, new in zip(words, fresh.tolist(),
                                                             strict=False) if new)
        rows = np.empty((int(fresh.sum()), 4), dtype=np.float64)
        rows[:, 0] = ids[fresh]
        rows[:, 1] = _column(typos, n, np.int8)[fresh]
        rows[:, 2] = exact
        rows[:, 3] = _column(weight, n, np.float32)[fresh]
        self._rows = np.concatenate((self._rows, rows)) if self._rows.size else rows

    def _add_one(self, tid: int, typos: int, exact: bool, weight: float, words: list[str]
                 ) -> None:
        """:meth:`add` of one term (a concatenation, a one-word synonym): the same row,
        without the arrays of a batch (a dozen numpy calls)."""
        if tid in self._rows[:, 0].tolist():
            return  # already in the table: its first entry stays
        self._any_exact |= exact
        if words:
            self.highlight_words.add(words[0])
        row = np.array([[tid, np.int8(typos), exact, np.float32(weight)]], dtype=np.float64)
        self._rows = np.concatenate((self._rows, row)) if self._rows.size else row

    def _table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(term ids, typos, exact, weights) as int64, int8, bool and float32 arrays."""
        return _columns(self._rows)

    @property
    def any_exact(self) -> bool:
        """Whether the query word itself is among its expansion terms (read per word by
        several stages: a flag, where numpy's any() was ~1 µs a call)."""
        return self._any_exact

    @property
    def term_ids(self) -> np.ndarray:
        return self._rows[:, 0].astype(np.int64)

    @property
    def typos(self) -> np.ndarray:
        """Typos of each expansion term."""
        return self._rows[:, 1].astype(np.int8)

    @property
    def exact(self) -> np.ndarray:
        """Whether each expansion term is the query word itself."""
        return self._rows[:, 2].astype(bool)

    @property
    def weight(self) -> np.ndarray:
        return self._rows[:, 3].astype(np.float32)


def _columns(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A table's rows as its four columns (contiguous arrays, as the kernels take)."""
    return (rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int8),
            rows[:, 2].astype(bool), rows[:, 3].astype(np.float32))


def _column(value: int | float | np.ndarray, n: int, dtype: type) -> np.ndarray:
    """``value`` (one for every term, or one per term) as ``n`` entries of ``dtype``."""
    if isinstance(value, np.ndarray):
        return value.astype(dtype, copy=False)
    return np.full(n, value, dtype=dtype)


def term_table(words: list[QueryWord]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(word_ptr, term_ids, typos, exact, weight): every word's expansion table end to
    end, word w's entries at ``[word_ptr[w], word_ptr[w + 1])``; new arrays."""
    ptr, rows = term_rows(words)
    return (ptr, *_columns(rows))


def term_rows(words: list[QueryWord]) -> tuple[np.ndarray, np.ndarray]:
    """(word_ptr, rows): :func:`term_table` as one float64 array of rows (term id, typos,
    exact, weight), what kernels.gather_candidates reads; a new array, but for a single
    word its own table (never to be written to, as every word's table)."""
    if len(words) == 1:  # a word's own table (the kernels only read it): no copy
        rows = words[0]._rows
        return _one_word_ptr(len(rows)), rows
    ends = [0]
    for w in words:
        ends.append(ends[-1] + len(w._rows))
    rows = np.concatenate([w._rows for w in words]) if words else _NO_ROWS
    return np.array(ends, dtype=np.int64), rows


@functools.lru_cache(maxsize=1024)
def _one_word_ptr(rows: int) -> np.ndarray:
    """A single word's ``word_ptr``, (0, rows): the same few lengths recur, and a small
    array costs more to make (~1 µs) than to look up; the kernels only read it."""
    return np.array((0, rows), dtype=np.int64)


_QUOTED = re.compile(r'"([^"]*)"')
# Words of a query past this many are ignored: each costs a lookup, its typo variants and a
# ranking pass (100,000 words took 7.6 s). Meilisearch keeps 10; this keeps every query of
# the relevance collections whole (CISI's longest has 335 words).
MAX_QUERY_WORDS: Final = 1000


_ENDS_IN_WORD = re.compile(r"\w$")  # the query's last word is still being typed
_NEGATED = re.compile(r'(?:^|(?<=\s))-("[^"]*"|[^\s"]+)')


def split_negations(q: str, analyzer: Analyzer) -> tuple[str, list[list[str]]]:
    """Remove ``-word`` and ``-"a phrase"`` from the query; return them as word lists.
    Documents containing any of them are excluded from the results."""
    if "-" not in q:  # the common query: no regex scan (~15 us with cold caches)
        return q, []
    negated = [analyzer.words(m.group(1).strip('"')) for m in _NEGATED.finditer(q)]
    return _NEGATED.sub(" ", q).rstrip() if negated else q, [n for n in negated if n]


def parse_query(q: str, analyzer: Analyzer, stop_words: set[str]) -> tuple[list[QueryWord], bool]:
    """Query words in order; quoted parts become phrases. Returns (words, last_is_prefix)."""
    words: list[QueryWord] = []
    cursor = 0
    # (Most queries quote nothing: no regex scan for quotes then, ~1 µs of a cached
    # one-word search's ~55.)
    for m in _QUOTED.finditer(q) if '"' in q else ():
        room = max(0, MAX_QUERY_WORDS - len(words))
        words += [QueryWord(w, 0) for w in analyzer.words(q[cursor:m.start()])[:room]]
        inner = analyzer.words(m.group(1))
        if len(inner) == 1:
            words.append(QueryWord(inner[0], 0, quoted=True))
        elif inner:
            words.append(QueryWord(" ".join(inner), 0, phrase=inner, quoted=True))
        cursor = m.end()
    tail = q[cursor:]
    words += [QueryWord(w, 0) for w in analyzer.words(tail)[: max(0, MAX_QUERY_WORDS - len(words))]]
    words = words[:MAX_QUERY_WORDS]  # a phrase can still pass the count
    # The last word is a prefix while the user is still typing it.
    # ``\w$`` can only match at the last two characters (``$`` also before a final
    # newline): searched from there (a negative start is 0 to re), not tried at every
    # position of the query (~2 µs of a pasted sentence's parse).
    last_prefix = bool(words) and cursor < len(q) and \
        _ENDS_IN_WORD.search(q, len(q) - 2) is not None
    if stop_words:
        kept = [w for w in words if w.phrase or w.text not in stop_words]
        words = kept or words
    for i, w in enumerate(words):
        w.index = i
        w.stop = w.text in ENGLISH_STOP_WORDS
    if words and last_prefix and words[-1].phrase is None:
        words[-1].is_prefix = True
    return words, last_prefix


def collapse_repeats(words: list[QueryWord]) -> tuple[list[QueryWord], list[int]]:
    """One word per distinct text, counted; and, per original word, its distinct word.

    A pasted paragraph repeats its words ("the" a dozen times, its topic words several):
    each repeat would gather, expand and score the same occurrences again. Scoring a word
    once times its count gives the same BM25 sum (a repeated word weighs more, as in
    Lucene), and the sequence keeps the original neighbours for the proximity bonus."""
    seen: dict[tuple[str, bool, bool, bool], int] = {}
    kept: list[QueryWord] = []
    sequence: list[int] = []
    for w in words:
        key = (w.text, w.is_prefix, w.phrase is not None, w.quoted)
        at = seen.get(key)
        if at is None:
            at = seen[key] = len(kept)
            w.index = at
            kept.append(w)
        else:
            kept[at].count += 1
        sequence.append(at)
    return kept, sequence


@dataclass
class ExpandConfig:
    typo_enabled: bool = True
    one_typo: int = 5
    two_typos: int = 9
    disable_on_words: frozenset[str] = frozenset()
    disable_on_numbers: bool = False
    prefix_search: bool = True
    stems: bool = False
    synonyms: dict[str, list[list[str]]] = field(default_factory=dict)
    prefix_weight: float = W_PREFIX
    typo_weight: float = W_TYPO[1]  # weight of a one-typo variant of a known word
    trusted_count: int = 0  # >0: a word occurring this often is taken as correctly spelled

    @property
    def expansion_key(self) -> tuple[Any, ...]:
        """Everything a word's own expansion depends on besides the snapshot."""
        return (self.typo_enabled, self.one_typo, self.two_typos, self.disable_on_words,
                self.disable_on_numbers, self.prefix_search, self.stems, self.prefix_weight,
                self.typo_weight, self.trusted_count)

    @classmethod
    def from_settings(cls, settings: dict[str, Any], analyzer: Analyzer, stems: bool
                      ) -> ExpandConfig:
        typo = settings["typoTolerance"]
        sizes = typo.get("minWordSizeForTypos") or {}
        syn: dict[str, list[list[str]]] = {}
        for key, values in (settings.get("synonyms") or {}).items():
            nkey = " ".join(analyzer.words(key))
            if nkey:
                syn.setdefault(nkey, []).extend(
                    analyzer.words(v) for v in values if analyzer.words(v)
                )
        return cls(
            typo_enabled=bool(typo.get("enabled", True)),
            one_typo=int(sizes.get("oneTypo", 5)),
            two_typos=int(sizes.get("twoTypos", 9)),
            disable_on_words=frozenset(normalize(w) for w in typo.get("disableOnWords") or []),
            disable_on_numbers=bool(typo.get("disableOnNumbers")),
            prefix_search=settings.get("prefixSearch", "indexingTime") != "disabled",
            stems=stems,
            synonyms=syn,
        )


def term_frequencies(snap: Snapshot) -> np.ndarray:
    """Live occurrences per term id over all segments (cached per snapshot): rows of
    replaced or deleted documents left out, so that every count (and every choice made
    from counts: completions kept, trusted words, splits) is the one a fresh index of
    the same documents has (docs/ranking.md, "Same answers on every layout")."""
    def build() -> np.ndarray:  # the writer gives its versions their counts (index.py)
        total = np.zeros(snap.n_terms, dtype=np.int64)
        for seg in snap.segments:
            live_rows_per_term(seg.term_ptr[: snap.n_terms + 1], seg.docs, snap.alive, total)
        return total
    return snap.cached("tf", build)


def live_term_id(snap: Snapshot, word: str) -> int | None:
    """The word's term id where a live document holds it: a term only replaced or
    deleted documents held is unknown, as to a fresh index (the term table and the
    vocabulary keep every term ever indexed)."""
    tid = snap.term_id(word)
    if tid is None or not dead_terms(snap):
        return tid
    return tid if term_frequencies(snap)[tid] > 0 else None


def dead_terms(snap: Snapshot) -> bool:
    """Whether some term of the snapshot has no live row (cached per snapshot): in an
    index without replacements or deletions (or a fresh one) none has, and the
    expansion filters nothing."""
    return snap.cached("dead_terms", lambda: not term_frequencies(snap).all())


def live_terms(ids: np.ndarray, snap: Snapshot) -> np.ndarray:
    """Which of ``ids`` a live document holds (a mask)."""
    return term_frequencies(snap)[ids] > 0


def max_typos(word: str, cfg: ExpandConfig) -> int:
    if not cfg.typo_enabled or word in cfg.disable_on_words:
        return 0
    if cfg.disable_on_numbers and word.isdigit():
        return 0
    if len(word) >= cfg.two_typos:
        return 2
    return 1 if len(word) >= cfg.one_typo else 0


def _typo_terms(word: str, budget: int, snap: Snapshot, any_first: bool = False
                ) -> tuple[np.ndarray, np.ndarray]:
    """Vocabulary terms within ``budget`` edits, as (term ids, typo counts).

    A typo on the first letter counts as two (Meilisearch's rule), so normally
    only terms sharing the first letter are compared (vocabulary buckets by first
    letter and length). ``any_first`` also scans other first letters, charging
    them the extra typo. (A word being typed with shortlists from one count:
    _expand_word's _both_hits.)
    """
    vocab = snap.vocabulary
    shortlist = vocab.grams.candidates(word, budget, prefix=False, any_first=any_first)
    if shortlist is not None:
        return _closest(word, budget, shortlist, snap, any_first)
    words: list[str] = []
    ids: list[np.ndarray] = []
    firsts: list[np.ndarray] = []
    first = ord(word[0])
    for length in range(max(1, len(word) - budget), len(word) + budget + 1):
        if any_first:
            bucket_words, bucket_ids, codes = vocab.same_length(length)
            firsts.append(codes == first)
        else:
            bucket_words, bucket_ids = vocab.same_first(word[0], length)
        words += bucket_words
        ids.append(bucket_ids)
    if not words:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int8)
    all_ids = np.concatenate(ids)
    dist = process.cdist([word], words, scorer=OSA.distance, score_cutoff=budget,
                         dtype=np.int32, workers=1)[0]
    if any_first:
        dist = np.where(np.concatenate(firsts), dist, dist + 1)
    hit = np.nonzero((dist <= budget) & (dist > 0))[0]
    if dead_terms(snap):
        hit = hit[live_terms(all_ids[hit], snap)]
    if hit.size > MAX_TYPO_TERMS:
        hit = hit[np.argsort(dist[hit], kind="stable")[:MAX_TYPO_TERMS]]
    return all_ids[hit], dist[hit].astype(np.int8)


def _closest(word: str, budget: int, ids: np.ndarray, snap: Snapshot, any_first: bool
             ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_typo_terms` over a bigram-filtered shortlist of term ids."""
    return _fewest_typos(*_live_hits(*_hits(word, ids, snap, budget, prefix=False,
                                            any_first=any_first), snap))


def _live_hits(ids: np.ndarray, dist: np.ndarray, snap: Snapshot
               ) -> tuple[np.ndarray, np.ndarray]:
    """Typo hits a live document holds: a term of replaced or deleted documents alone
    must not take a place among the closest or most frequent (a fresh index has none)."""
    if not ids.size or not dead_terms(snap):
        return ids, dist
    keep = live_terms(ids, snap)
    return ids[keep], dist[keep]


def _fewest_typos(ids: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A whole word's typo hits, the MAX_TYPO_TERMS closest of them (the first of equals)."""
    if ids.size > MAX_TYPO_TERMS:
        keep = np.argsort(dist, kind="stable")[:MAX_TYPO_TERMS]
        ids, dist = ids[keep], dist[keep]
    return ids, dist


def _hits(word: str, ids: np.ndarray, snap: Snapshot, budget: int, prefix: bool,
          any_first: bool) -> tuple[np.ndarray, np.ndarray]:
    """The terms of ``ids`` within ``budget`` typos of ``word`` (of their beginnings when
    ``prefix``, never with another first letter then; else another first letter a typo
    more when ``any_first``) and their typos (int8), the word itself left out
    (kernels.typo_hits), computed on the vocabulary's code points: a shortlist never
    becomes a list of Python strings."""
    vocab = snap.vocabulary
    whole, heads = (_NO_TERMS, ids) if prefix else (ids, _NO_TERMS)
    if vocab.beyond_rows(len(word) + 2):  # a term's letters past its row may be compared
        found, typos, _ = _long_hits(word, whole, heads, snap, budget, any_first)
        return found, typos
    # _both_hits written out (one Python call less: most calls search one list).
    rank, rows = vocab.typo_rows
    found, typos, _ = typo_hits(_letters(word), whole, heads, rank, rows, vocab.codes,
                                vocab.lengths_by_id, vocab.grams.firsts, budget, any_first)
    return found, typos


def _both_hits(word: str, whole: np.ndarray, heads: np.ndarray, snap: Snapshot, budget: int,
               any_first: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """kernels.typo_hits: the terms of ``whole`` within ``budget`` typos of ``word`` (any
    first letter a typo more when ``any_first``) and those of ``heads`` within ``budget``
    of it as their beginning, as (found, typos, k): whole's at ``[:k]``, heads' at
    ``[k:]``. Both lists sorted when both are given (GramView's and
    typed_word_shortlists' shortlists are)."""
    vocab = snap.vocabulary
    rank, rows = vocab.typo_rows
    if vocab.beyond_rows(len(word) + 2):  # a term's letters past its row may be compared
        return _long_hits(word, whole, heads, snap, budget, any_first)
    return typo_hits(_letters(word), whole, heads, rank, rows, vocab.codes,
                     vocab.lengths_by_id, vocab.grams.firsts, budget, any_first)


def _long_hits(word: str, whole: np.ndarray, heads: np.ndarray, snap: Snapshot, budget: int,
               any_first: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """_both_hits for a word as long as the code rows (terms longer than them keep their
    letters in the term table's overflow store): the kernel given the shortlists' terms
    whole, as rows of their own (their positions in the two lists end to end standing for
    their ids; the heads' found apart, as their positions are not the whole's order)."""
    vocab = snap.vocabulary
    rank, rows = vocab.typo_rows
    found: list[np.ndarray] = []
    typos: list[np.ndarray] = []
    k = 0
    for ids, prefix in ((whole, False), (heads, True)):
        if not ids.size:
            continue
        at = np.arange(ids.size, dtype=np.int64)
        lists = (_NO_TERMS, at) if prefix else (at, _NO_TERMS)
        hit, typo, _ = typo_hits(_letters(word), *lists, at.astype(np.int32), rows[rank[ids]],
                                 vocab.full_codes(ids), vocab.lengths_by_id[ids],
                                 vocab.grams.firsts[ids], budget, any_first)
        found.append(ids[hit])
        typos.append(typo)
        if not prefix:
            k = hit.size
    if not found:
        return _NO_TERMS, _NO_TYPOS, 0
    return (np.concatenate(found), np.concatenate(typos), k) if len(found) > 1 else \
        (found[0], typos[0], k)


# Query words expanded per snapshot and configuration: search traffic repeats its words
# (the words typed before the last one, popular terms), and a word's own expansion
# depends only on the snapshot's vocabulary and the settings.
EXPANSION_CACHE_SIZE: Final = 4096


class _Expansion(NamedTuple):
    """A word's expansion as a search leaves it (a tuple: a frozen dataclass of a dozen
    fields took ~3 µs to build, per word of a first sight)."""

    # The word's table (shared by every query that applies this expansion: never written
    # to; a later add() builds a new one).
    rows: np.ndarray
    any_exact: bool
    named: frozenset[str]
    unnamed: np.ndarray | None
    terms: list[str] | None
    highlight_prefix: str | None
    facts: WordFacts | None
    known_elsewhere: bool
    decision: int

    @classmethod
    def of(cls, w: QueryWord) -> _Expansion:
        return cls(w._rows, w._any_exact, frozenset(w._named), w._unnamed, w._terms,
                   w.highlight_prefix, w.facts, w.known_elsewhere, w.decision)

    def apply(self, w: QueryWord) -> None:
        (w._rows, w._any_exact, named, w._unnamed, w._terms, w.highlight_prefix, w.facts,
         w.known_elsewhere, w.decision) = self
        w._named = set(named)


def _expansions(snap: Snapshot, cfg: ExpandConfig) -> LRU:
    return snap.cached(("expansions", cfg.expansion_key), lambda: LRU(EXPANSION_CACHE_SIZE))


def expand(words: list[QueryWord], snap: Snapshot, cfg: ExpandConfig,
           facts: tuple[WordFacts, ...] = ()) -> None:
    """Fill each word's expansion table in place; with ``facts`` (one per word: every
    shard's counts, corpus.py), decide typo tolerance by them, not by this snapshot's."""
    cache = _expansions(snap, cfg)
    for i, w in enumerate(words):
        if w.phrase is not None:
            continue  # phrases are matched positionally in match.py
        fact = facts[i] if facts else None
        key = (w.text, w.is_prefix) if fact is None else (w.text, w.is_prefix, fact)
        known = cache.get(key)
        if known is None:
            _expand_word(w, snap, cfg, fact)
            cache.put(key, _Expansion.of(w))
        else:
            known.apply(w)
    _add_synonyms(words, snap, cfg)
    _add_concatenations(words, snap)


def _expand_word(w: QueryWord, snap: Snapshot, cfg: ExpandConfig,
                 facts: WordFacts | None = None) -> None:
    """One word's own expansions: exact, prefix, stem, typo and typo-prefix terms, each
    kind found here and the table joined in one call (kernels.expansion_table).
    ``facts``: the counts of every shard, which decide instead of this snapshot's."""
    tid = live_term_id(snap, w.text)
    completions, prefix_weight = _NO_TERMS, 0.0
    if w.is_prefix and cfg.prefix_search:
        completions, prefix_weight = _completions(w.text, tid, snap, cfg.prefix_weight)
        w.highlight_prefix = w.text
    if cfg.stems:  # a word that is its own stem (most are) has its term id already
        stem = stem_word(w.text)
        group = snap.vocabulary.stem_group(stem, tid if stem == w.text else NOT_LOOKED_UP)
        if group and dead_terms(snap):
            freq = term_frequencies(snap)
            group = [t for t in group if freq[t] > 0]
    else:
        group = []
    found = tid is not None or completions.size > 0 or bool(group)
    budget = max_typos(w.text, cfg)
    own = int(term_frequencies(snap)[tid]) if tid is not None else 0
    if cfg.trusted_count and (own if facts is None else facts.occurrences) >= cfg.trusted_count:
        budget = 0
    unknown = cfg.stems and not (found if facts is None else facts.known)
    w.facts = WordFacts(own, found)
    w.known_elsewhere = tid is None and facts is not None and facts.occurrences > 0
    if unknown and budget == 0 and max_typos(w.text + "_", cfg):
        # Relevance mode: a word the index has never seen is a typo or noise, so a
        # word one letter short of the typo threshold still gets one typo.
        budget = 1
    if facts is not None:
        w.decision = facts.closest if unknown else TYPOS if budget else TRUSTED
    ids, dist, weights = _NO_TERMS, _NO_TYPOS, _NO_WEIGHTS
    typed = w.is_prefix and cfg.prefix_search and budget
    any_first = unknown or budget >= 2
    both = _typed_hits(w.text, budget, snap, any_first) if typed else None
    if budget:
        ids, dist = _typo_terms(w.text, budget, snap, any_first) if both is None else \
            _fewest_typos(*_live_hits(both[0][:both[2]], both[1][:both[2]], snap))
        if unknown and dist.size:
            # Keep the closest spellings only: farther ones are mostly noise.
            w.facts = WordFacts(own, False, int(dist.min()))
            closest = dist == (w.facts.closest if facts is None else facts.closest)
            ids, dist = ids[closest], dist[closest]
        if dist.size:  # (most known words have no typo variant: no weights to compute)
            weights = _TYPO_WEIGHTS[dist] * (cfg.typo_weight / W_TYPO[1])
            if unknown:
                weights = weights / weights.max()  # the intended word is among these
    # After the whole-word typos, so a term found both ways keeps the higher weight.
    heads, head_typos, head_weights = _NO_TERMS, _NO_TYPOS, _NO_WEIGHTS
    if typed:
        scale = 1.0 if unknown else cfg.typo_weight / W_TYPO[1]
        heads, head_typos = _typo_completions(w.text, snap, budget) if both is None else \
            _most_frequent(*_live_hits(both[0][both[2]:], both[1][both[2]:], snap), snap)
        head_weights = cfg.prefix_weight * scale * _TYPO_WEIGHTS[head_typos]
    w._terms = snap.terms
    if completions.size or ids.size or heads.size or (group and group != [tid]):
        stems = np.array(group, dtype=np.int64) if group else _NO_TERMS
        w._rows, w._unnamed = expansion_table(
            -1 if tid is None else tid, W_EXACT, completions, prefix_weight, stems, W_STEM,
            ids, dist, weights, heads, head_typos, head_weights)
    elif tid is not None:  # the word's own term alone (most words of a long query)
        w._rows = np.array([[tid, 0, 1, W_EXACT]], dtype=np.float64)
        w._unnamed = np.array([tid], dtype=np.int64)
    else:
        w._rows, w._unnamed = _NO_ROWS, None
    w._any_exact = tid is not None  # its own term, the table's first entry


def _typed_hits(word: str, budget: int, snap: Snapshot, any_first: bool
                ) -> tuple[np.ndarray, np.ndarray, int] | None:
    """A word being typed is searched whole and as its completions' beginning (the whole
    word with any first letter when any_first): their shortlists from one count, both
    searched in one kernel call (_both_hits: most of the whole word's terms are among
    its completions'), as (found, typos, k), the whole word's hits at ``[:k]``; None
    where the shortlists cannot be counted together (search each apart then). A word of
    SHORTLIST_LETTERS letters and more with one typo, within the rows: shortlists and
    hits in one call (kernels.typed_word_hits)."""
    vocab = snap.vocabulary
    if not any_first and budget == 1 and len(word) >= SHORTLIST_LETTERS and \
            counts_typed(word, budget) and not vocab.beyond_rows(len(word) + 2):
        rank, rows = vocab.typo_rows
        return typed_word_hits(_letters(word), vocab.ids, vocab.codes, vocab.lengths_by_id,
                               vocab.grams.firsts, vocab.grams.starting_with(word[3:5], word[0]),
                               rank, rows)
    both = _typed_shortlists(word, budget, snap) if not any_first \
        else vocab.grams.typed_candidates_any_first(word, budget)
    return None if both is None else _both_hits(word, both[0], both[1], snap, budget, any_first)


def _typed_shortlists(word: str, budget: int, snap: Snapshot
                      ) -> tuple[np.ndarray, np.ndarray] | None:
    """GramView.typed_candidates' shortlists (the whole word's, its completions'), None
    where it answers None. A word of SHORTLIST_LETTERS letters or more with one typo
    takes them from two ranges of the sorted vocabulary and one posting
    (kernels.typed_word_shortlists: ~1/10 of the terms 2 shared bigrams let through for
    a five-letter word, and no count over ~5,000 posting entries); both shortlists hold
    every term the typo search accepts, so the same hits in the same order."""
    vocab = snap.vocabulary
    if budget != 1 or len(word) < SHORTLIST_LETTERS or not counts_typed(word, budget):
        return vocab.grams.typed_candidates(word, budget)
    rank, rows = vocab.typo_rows
    return typed_word_shortlists(_letters(word), vocab.ids, vocab.codes, vocab.lengths_by_id,
                                 vocab.grams.starting_with(word[3:5], word[0]), rank, rows)


def _completions(word: str, tid: int | None, snap: Snapshot, base: float
                 ) -> tuple[np.ndarray, float]:
    """The word's completions, the MAX_PREFIX_TERMS most frequent terms starting with it
    (kernels.prefix_completions) but the word's own term (``tid``: its exact term), and
    their weight."""
    vocab = snap.vocabulary
    letters, order = _letters(word), vocab.ids
    if vocab.beyond_rows(len(word)):  # the prefix's range found apart: every term in it
        lo, hi = vocab.prefix_range(word)
        letters, order = letters[:0], order[lo:hi]
    ids = prefix_completions(letters, order, vocab.codes, vocab.lengths_by_id,
                             term_frequencies(snap), MAX_PREFIX_TERMS,
                             -1 if tid is None else tid)
    # Terms only replaced or deleted documents held (count 0) come last in the cut: a
    # fresh index would not have them at all.
    if dead_terms(snap):
        ids = ids[live_terms(ids, snap)]
    # Longer prefixes say more about the intended word.
    return ids, base * min(1.0, 0.5 + 0.1 * len(word))


def _letters(word: str) -> np.ndarray:
    """The word's code points (a writable array, as the kernels were compiled for): one
    ``np.fromiter`` (~1 µs; the UTF-32 bytes' ``frombuffer`` and its copy took ~3)."""
    return np.fromiter(map(ord, word), np.uint32, len(word))


def _typo_completions(word: str, snap: Snapshot, budget: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Completions of a mistyped prefix ("extrordin" -> "extraordinary") and their typos:
    the word is compared with the start of each term sharing its first letter, cut one
    letter shorter, as long, and one letter longer (to allow a missed or extra letter).
    (With shortlists from one count: _expand_word's _both_hits.)"""
    vocab = snap.vocabulary
    n = len(word)
    shortlist = vocab.grams.candidates(word, budget, prefix=True, any_first=False)
    if shortlist is None:
        lo, hi = vocab.prefix_range(word[0])
        in_range = vocab.ids[lo:hi]
        near = np.nonzero(vocab.lengths_by_id[in_range] >= n - budget)[0]
        candidates = in_range[near]
        terms = vocab.words_at(candidates)
        if not terms:
            return _NO_TERMS, _NO_TYPOS
        dist = np.full(len(terms), budget + 1, dtype=np.int32)
        for cut in (n - 1, n, n + 1):
            size = max(cut, 1)
            heads = [t[:size] for t in terms]
            dist = np.minimum(dist, process.cdist([word], heads, scorer=OSA.distance,
                                                  score_cutoff=budget, dtype=np.int32,
                                                  workers=1)[0])
        hit = np.nonzero((dist > 0) & (dist <= budget))[0]
        ids, typos = candidates[hit].astype(np.int64), dist[hit].astype(np.int8)
    else:
        if not shortlist.size:
            return _NO_TERMS, _NO_TYPOS
        ids, typos = _hits(word, shortlist, snap, budget, prefix=True, any_first=False)
    ids, typos = _live_hits(ids, typos, snap)
    return _most_frequent(ids, typos, snap)


def _most_frequent(ids: np.ndarray, typos: np.ndarray, snap: Snapshot
                   ) -> tuple[np.ndarray, np.ndarray]:
    """A typed word's typo completions, the MAX_PREFIX_TERMS most frequent of them."""
    if ids.size > MAX_PREFIX_TERMS:
        keep = largest_k(term_frequencies(snap)[ids], MAX_PREFIX_TERMS)
        ids, typos = ids[keep], typos[keep]
    return ids, typos


def _add_synonyms(words: list[QueryWord], snap: Snapshot, cfg: ExpandConfig) -> None:
    if not cfg.synonyms:
        return
    texts = [w.text for w in words]
    for size in (1, 2, 3):
        for i in range(len(words) - size + 1):
            key = " ".join(texts[i:i + size])
            for syn in cfg.synonyms.get(key, []):
                if len(syn) == 1:
                    tid = live_term_id(snap, syn[0])
                    if tid is not None:
                        for w in words[i:i + size]:
                            w.add([tid], 0, False, W_SYNONYM, syn)
                else:
                    # A multi-word synonym of a single word is matched as a phrase
                    # attached to that word (see match.py "alt_phrases").
                    for w in words[i:i + size]:
                        w.alt_phrases.append(syn)
                        w.highlight_words.update(syn)


def _add_concatenations(words: list[QueryWord], snap: Snapshot) -> None:
    for a, b in pairwise(words):
        if a.phrase is not None or b.phrase is not None:
            continue
        tid = live_term_id(snap, a.text + b.text)
        if tid is not None:
            for w in (a, b):
                w.add([tid], 0, False, W_CONCAT, [a.text + b.text])


class Split(NamedTuple):
    """An unknown word's two known halves (best_split) and their term ids."""
    words: list[str]
    ids: list[int]


def best_split(word: str, snap: Snapshot) -> Split | None:
    """Split an unknown word into two known ones ("sunflower" -> "sun flower"),
    preferring the split whose rarer half is most frequent."""
    if len(word) < 4 or live_term_id(snap, word) is not None:
        return None
    # Snapshot.term_id spelled out, and the right half looked up only when the left
    # is a term: a word being typed ("protei") is tried at every cut, most of them
    # with a left half the index does not know.
    terms, n_terms = snap.terms, snap.n_terms
    best: tuple[int, Split] | None = None
    for cut in range(2, len(word) - 1):
        left = terms.get(word[:cut], n_terms)
        if left is None:
            continue
        right = terms.get(word[cut:], n_terms)
        if right is None:
            continue
        freq = term_frequencies(snap)
        score = int(min(freq[left], freq[right]))
        if score and (best is None or score > best[0]):  # 0: a half no live document holds
            best = (score, Split([word[:cut], word[cut:]], [left, right]))
    return best[1] if best else None
