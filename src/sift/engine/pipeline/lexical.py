"""The lexical leg: documents matching the query's words (and the filter), ranked by
the index's ranking rules; without words, every filtered document in `sort` order."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sift.engine.expand import (
    ExpandConfig,
    QueryWord,
    collapse_repeats,
    expand,
    max_typos,
    parse_query,
    split_negations,
)
from sift.engine.frozen import quick_init
from sift.engine.kernels import take_ranked
from sift.engine.match import (
    Features,
    MatchContext,
    Occurrences,
    gather_found,
    phrase_occurrences,
    within_row_budget,
)
from sift.engine.pipeline.request import Request
from sift.engine.ranking import (
    CUSTOM_RULE,
    Ranked,
    RankInput,
    RelevanceParams,
    Ties,
    field_weights,
    rank,
    scored_words,
    top_order,
)
from sift.engine.select import listing, matches_pattern, sort_key_fn
from sift.engine.store import IndexView, Snapshot
from sift.engine.tiebreak import all_tied
from sift.engine.word_totals import one_word_features, trailing_word_features
from sift.errors import SiftError

# Rules that count or place every query word (collapse_repeats would change them).
BUCKET_RULES = frozenset(("words", "typo", "proximity", "attribute", "attributeRank",
                          "wordPosition", "exactness"))
# Meilisearch's searchCutoffMs default: a search past it stops refining its ranking.
DEFAULT_SEARCH_CUTOFF_MS = 1500


@quick_init
@dataclass(frozen=True)
class LexicalCandidates:
    """Matches in rank order: the first ``need`` rows (see :func:`match_and_rank`) are
    ranked, the rest are every other match, for counts and facets."""

    words: list[QueryWord] = field(default_factory=list)  # hits highlight them
    docids: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint32))
    scores: np.ndarray = field(default_factory=lambda: np.empty(0))  # `_rankingScore`
    order: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # row -> ranked
    ranked: Ranked | None = None  # `_rankingScoreDetails`, by ``order``
    bits: np.ndarray | None = None  # ``docids`` as a bitset, when the match built one


NO_CANDIDATES = LexicalCandidates()


def lexical_candidates(request: Request) -> LexicalCandidates:
    """The keyword leg of ``request``. Beside a semantic leg it ranks by relevance alone
    (`sort` orders the fused list) and brings ``window`` candidates; it has none when
    the semantic ratio is 1 or the query has no words."""
    leg = request.vectors
    if leg is None:
        return match_and_rank(request, request.sort, request.ordered_rows,
                              page_scores_only=request.page_scores_only)
    if leg.ratio >= 1.0 or not request.has_words:
        return NO_CANDIDATES
    return match_and_rank(request, [], request.window)


def match_and_rank(request: Request, sort: list[str], need: int | None,
                   page_scores_only: bool = False) -> LexicalCandidates:
    """Candidates matching q and filter, ranked; only the first ``need`` rows are
    guaranteed in rank order (None: all). ``page_scores_only``: only those rows' scores
    will be read (RankInput.page_scores_only); the others' may lack a bonus."""
    matched = match(request, sort, need, word_totals=True, page_scores_only=page_scores_only)
    if isinstance(matched, LexicalCandidates):
        return matched
    words, inp = matched
    ranked = rank(inp, list(request.index.settings["rankingRules"]))
    # The match's bitset is of every candidate: a matching strategy may have dropped some.
    bits = inp.feats.bits if ranked.order.size == inp.feats.cands.size else None
    docids, scores = ranked.taken if ranked.taken is not None else \
        take_ranked(ranked.order, inp.feats.cands, ranked.score)
    return LexicalCandidates(words, docids, scores, ranked.order, ranked, bits)


def match(request: Request, sort: list[str], need: int | None, word_totals: bool = False,
          page_scores_only: bool = False
          ) -> LexicalCandidates | tuple[list[QueryWord], RankInput]:
    """The query's words, matched: what ranking reads (and the words hits highlight);
    without words, the candidates already in their order. ``word_totals``: a one-word
    query ranked by relevance alone may take its features from the word's cached
    totals (sift.engine.word_totals), without occurrences; only ranking may read them
    then, not what counts occurrences (corpus statistics)."""
    index, snap, params = request.index, request.snap, request.params
    settings = index.settings
    rules = list(settings["rankingRules"])
    doc_mask = snap.alive if request.mask is None else request.mask
    stems = "relevance" in rules
    q, negated = split_negations(request.query, index.analyzer)
    if negated:
        doc_mask = doc_mask & ~_containing(snap, negated)
    words, _ = parse_query(
        q,
        index.analyzer,
        {w for s in settings.get("stopWords") or [] for w in index.analyzer.words(s)},
    )
    sequence = None
    if stems and not BUCKET_RULES.intersection(rules):
        # Only the relevance score reads the words: repeats can be scored once.
        words, sequence = collapse_repeats(words)
    sort_fn = sort_key_fn(index, snap)
    if not words:
        docids = np.nonzero(doc_mask)[0].astype(np.uint32)
        keys = [
            sort_fn(m.group(1), docids, m.group(2) == "asc")
            for e in placeholder_order(rules, sort)
            if (m := CUSTOM_RULE.match(e))
        ]
        order = top_order(keys, need, Ties(docids, snap.tie)) if keys else \
            all_tied(snap, doc_mask, docids, need)
        return LexicalCandidates(words, docids[order], np.ones(order.size), order)
    # Field ids are append-only: the same count means the same names.
    field_rank, n_ranks = index.derived(("field_ranks", len(snap.field_names)),
                                        lambda: field_ranks(index, snap))
    searchable = params.attributes_to_search_on
    if searchable is not None:
        for name in searchable:
            if (
                not any(matches_pattern(f, [name]) for f in index.searchable)
                and "*" not in index.searchable
            ):
                raise SiftError(
                    f"Attribute `{name}` is not searchable. Available searchable attributes are: "
                    f"{listing(index.searchable)}.",
                    "invalid_search_attributes_to_search_on",
                )
    # Field ids are append-only: the same count means the same fields (as field_ranks).
    field_ok, typo_ok, every_field, typos_everywhere = \
        _field_masks(snap, searchable, settings) if searchable is not None \
        else index.derived(("field_masks", len(snap.field_names)),
                           lambda: _field_masks(snap, None, settings))
    ctx = MatchContext(
        doc_mask, field_ok, typo_ok,
        every_doc=doc_mask is snap.alive and snap.n_alive == snap.alive.size,
        every_field=every_field, typos_everywhere=typos_everywhere,
    )
    relevance = request.relevance
    long = sequence is not None and _is_long(words, relevance)
    # In a pasted paragraph a word the index knows is taken as spelled as meant.
    trusted = 1 if long else relevance.trusted_count
    cfg = index.derived(("expand", stems, relevance.prefix_weight, relevance.typo_weight,
                         trusted),
                        lambda: _expand_config(settings, index, stems, relevance, trusted))
    corpus = params.statistics
    if corpus is not None and corpus.terms and len(corpus.terms) != len(words):
        raise SiftError(
            f"Invalid corpus statistics: {len(corpus.terms)} words counted, the query has "
            f"{len(words)}.", "bad_request")
    # Every word, stop words included, is highlighted.
    expand(words, snap, cfg, corpus.terms if corpus is not None else ())
    ranked_words = words
    if long and sequence is not None and not relevance.stop_weight:
        ranked_words, sequence = _without_stop_words(words, sequence)
    feats = None
    occs: Sequence[Occurrences] | None = None
    if word_totals and sequence is not None and corpus is None:
        # No bucket rule (sequence) and no network statistics: relevance alone reads them.
        feats = one_word_features(ranked_words, snap, ctx, relevance, field_rank, n_ranks)
        if feats is not None:
            occs = [Occurrences.empty()]
        else:
            parts = trailing_word_features(ranked_words, snap, ctx, relevance, field_rank,
                                           n_ranks)
            if parts is not None:
                occs, feats = parts
    if occs is None:
        if corpus is None:  # network statistics name every word: a shard ranks them all
            ranked_words, sequence = within_row_budget(ranked_words, sequence, snap)
        # The relevance rule's term frequencies come with the candidates, in one call
        # (with the occurrences, when their words have no phrase: gather_found).
        weights = (field_weights(relevance, snap, corpus, field_rank, n_ranks),
                   snap.field_len.shape[0], scored_words(ranked_words, relevance)) \
            if stems else None
        # Under the relevance rule alone (no bucket rule: sequence) and without network
        # statistics (which count occurrences), a word it does not score is in no word
        # pair: only its rows' documents are read (its candidates and matches).
        copied = weights[2] if weights is not None and sequence is not None and \
            corpus is None else None
        occs, flat, found = gather_found(ranked_words, snap, ctx, weights, copied)
        feats = Features(occs, field_rank, snap.alive.size, flat, weights, found)
    inp = RankInput(
        snap,
        ranked_words,
        occs,
        feats,
        params.matching_strategy,
        field_rank,
        n_ranks,
        sort,
        sort_fn,
        relevance,
        settings.get("proximityPrecision") == "byAttribute",
        need=need,
        page_scores_only=page_scores_only,
        deadline=_deadline(settings),
        typo_budget=[0 if w.phrase is not None else max_typos(w.text, cfg)
                     for w in ranked_words],
        sequence=sequence,
        corpus=corpus,
    )
    if corpus is not None and len(corpus.words) != len(occs):
        raise SiftError(
            f"Invalid corpus statistics: {len(corpus.words)} words counted, the query "
            f"ranks {len(occs)}.", "bad_request")
    return words, inp


def placeholder_order(rules: list[str], sort: list[str]) -> list[str]:
    """What orders a search without words, as in Meilisearch: the request's `sort` where
    the `sort` rule stands (first when the rules lack it) and the settings' custom
    `field:asc|desc` rules where they stand; every other rule cannot tell documents apart."""
    entries: list[str] = []
    for rule in rules:
        if rule == "sort":
            entries.extend(sort)
        elif CUSTOM_RULE.match(rule):
            entries.append(rule)
    return entries if "sort" in rules else [*sort, *entries]


def field_ranks(index: IndexView, snap: Snapshot) -> tuple[np.ndarray, int]:
    """Attribute rank of every field id (0 = most important) and the number of ranks."""
    names = snap.field_names
    searchable = index.searchable
    if "*" in searchable:
        return np.arange(max(len(names), 1), dtype=np.int64), max(len(names), 1)
    ranks = np.full(max(len(names), 1), len(searchable), dtype=np.int64)
    for fid, name in enumerate(names):
        for r, attr in enumerate(searchable):
            if name == attr or name.startswith(attr + "."):
                ranks[fid] = r
                break
    return ranks, len(searchable)


def _field_masks(snap: Snapshot, searchable: list[str] | None, settings: dict[str, Any]
                 ) -> tuple[np.ndarray, np.ndarray, bool, bool]:
    """Per field id: searched by this query (``attributesToSearchOn``), typos allowed;
    and whether each mask is all True (what MatchContext asks of them)."""
    typo_off = settings["typoTolerance"].get("disableOnAttributes") or []
    field_ok = _field_mask(snap, searchable)
    typo_ok = ~_field_mask(snap, typo_off) if typo_off else _field_mask(snap, None)
    return field_ok, typo_ok, bool(field_ok.all()), bool(typo_ok.all())


def _field_mask(snap: Snapshot, names: list[str] | None) -> np.ndarray:
    n = max(len(snap.field_names), 1)
    if names is None:
        return np.ones(n, dtype=bool)
    mask = np.zeros(n, dtype=bool)
    for fid, name in enumerate(snap.field_names):
        mask[fid] = matches_pattern(name, names)
    return mask


def _containing(snap: Snapshot, phrases: list[list[str]]) -> np.ndarray:
    """Mask of the documents containing any of ``phrases`` (negative search)."""
    mask = np.zeros(snap.alive.size, dtype=bool)
    for words in phrases:
        mask[phrase_occurrences(words, snap, 0, True, 1.0).docs] = True
    return mask


def _deadline(settings: dict[str, Any]) -> float:
    cutoff = settings.get("searchCutoffMs")
    cutoff = DEFAULT_SEARCH_CUTOFF_MS if cutoff is None else int(cutoff)
    return time.perf_counter() + cutoff / 1000


def _is_long(words: list[QueryWord], relevance: RelevanceParams) -> bool:
    """A query of more than ``long_query_words`` distinct content words: pasted text, not
    typed keywords (see docs/ranking.md, "Long queries")."""
    limit = relevance.long_query_words
    # No more content words than words: a short query is told without counting them.
    return bool(limit) and len(words) > limit and sum(1 for w in words if not w.stop) > limit


def _without_stop_words(words: list[QueryWord], sequence: list[int]
                        ) -> tuple[list[QueryWord], list[int]]:
    """The content words of a long query, and its sequence renumbered.

    The relevance score gives stop words no weight; they only make documents candidates
    and count for the every-word bonus. In a long query neither is worth their
    occurrences, which are most of the query's: a document matching only "the" and "of"
    is no answer."""
    content = [i for i, w in enumerate(words) if not w.stop]
    renumber = {old: new for new, old in enumerate(content)}
    return [words[i] for i in content], [renumber[i] for i in sequence if i in renumber]


def _expand_config(settings: dict[str, Any], index: IndexView, stems: bool,
                   relevance: RelevanceParams, trusted_count: int) -> ExpandConfig:
    cfg = ExpandConfig.from_settings(settings, index.analyzer, stems)
    if stems:
        cfg.prefix_weight = relevance.prefix_weight
        cfg.typo_weight = relevance.typo_weight
        cfg.trusted_count = trusted_count
    return cfg
