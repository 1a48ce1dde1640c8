"""From expanded query words to per-candidate feature arrays.

For every query word the occurrences of all its expansion terms are gathered
from the segments in one vectorized step per segment; phrases (quoted parts,
multi-word synonyms, split words) are matched by shifting position keys. The
union of documents is the candidate set, and each feature the ranking rules
need is a (words x candidates) array built with bincount / ufunc.at, so the
cost depends on the number of occurrences, never on a Python loop per document.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sift.engine.expand import W_SYNONYM, QueryWord, best_split
from sift.engine.store import Snapshot

POS_BITS = 20  # positions are clipped below 2**20 inside a field
_NO_MATCH_ATTR = np.int64(1) << 40


@dataclass
class Occurrences:
    docs: np.ndarray  # uint32
    fields: np.ndarray  # uint16
    pos: np.ndarray  # uint32
    typos: np.ndarray  # int8
    exact: np.ndarray  # bool
    weight: np.ndarray  # float32

    @classmethod
    def empty(cls) -> Occurrences:
        return cls(np.empty(0, np.uint32), np.empty(0, np.uint16), np.empty(0, np.uint32),
                   np.empty(0, np.int8), np.empty(0, bool), np.empty(0, np.float32))

    @classmethod
    def concat(cls, parts: list[Occurrences]) -> Occurrences:
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                     ("docs", "fields", "pos", "typos", "exact", "weight")))

    def select(self, mask: np.ndarray) -> Occurrences:
        return Occurrences(self.docs[mask], self.fields[mask], self.pos[mask], self.typos[mask],
                           self.exact[mask], self.weight[mask])


@dataclass
class MatchContext:
    doc_mask: np.ndarray  # bool per docid: alive and passing the filter
    field_ok: np.ndarray  # bool per field id: searchable for this query
    typo_field_ok: np.ndarray  # bool per field id: typos allowed there
    splits: bool = True


def _term_occurrences(term_ids: np.ndarray, snap: Snapshot) -> tuple[list[tuple], None]:
    parts = []
    for seg in snap.segments:
        idx, which = seg.gather(term_ids)
        if idx.size:
            parts.append((seg.docs[idx], seg.fields[idx], seg.pos[idx], which))
    return parts, None


def _keys(docs: np.ndarray, fields: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return ((docs.astype(np.int64) << 16 | fields.astype(np.int64)) << POS_BITS) | pos.astype(
        np.int64)


def phrase_occurrences(words: list[str], snap: Snapshot, typos: int, exact: bool,
                       weight: float) -> Occurrences:
    """Occurrences of the first word of ``words`` followed by the others, consecutively."""
    ids = [snap.term_id(w) for w in words]
    if any(t is None for t in ids):
        return Occurrences.empty()
    per_word = []
    for tid in ids:
        parts, _ = _term_occurrences(np.array([tid], dtype=np.int64), snap)
        if not parts:
            return Occurrences.empty()
        per_word.append(tuple(np.concatenate([p[k] for p in parts]) for k in range(3)))
    docs, fields, pos = per_word[0]
    keys = _keys(docs, fields, pos)
    keep = np.ones(keys.size, dtype=bool)
    for k, (d, f, p) in enumerate(per_word[1:], start=1):
        keep &= np.isin(keys + k, _keys(d, f, p))
    n = int(keep.sum())
    return Occurrences(docs[keep], fields[keep], pos[keep], np.full(n, typos, np.int8),
                       np.full(n, exact), np.full(n, weight, np.float32))


def gather(word: QueryWord, snap: Snapshot, ctx: MatchContext) -> Occurrences:
    """All usable occurrences of one query word."""
    parts: list[Occurrences] = []
    if word.term_ids.size:
        raw, _ = _term_occurrences(word.term_ids, snap)
        for docs, fields, pos, which in raw:
            parts.append(Occurrences(docs, fields, pos, word.typos[which], word.exact[which],
                                     word.weight[which]))
    if word.phrase is not None:
        parts.append(phrase_occurrences(word.phrase, snap, 0, True, 1.0))
        word.highlight_words.update(word.phrase)
    for alt in word.alt_phrases:
        parts.append(phrase_occurrences(alt, snap, 0, False, W_SYNONYM))
    if ctx.splits and word.phrase is None and not word.exact.any():
        split = best_split(word.text, snap)
        if split is not None:
            parts.append(phrase_occurrences(split, snap, 1, False, W_SYNONYM))
            word.highlight_words.update(split)
    occ = Occurrences.concat(parts)
    if occ.docs.size == 0:
        return occ
    ok = ctx.doc_mask[occ.docs] & ctx.field_ok[occ.fields]
    ok &= (occ.typos == 0) | ctx.typo_field_ok[occ.fields]
    return occ if ok.all() else occ.select(ok)


@dataclass
class Features:
    """Per-candidate features; rows are query words, columns candidates."""

    cands: np.ndarray  # uint32 sorted docids
    index: list[np.ndarray]  # per word: candidate index of each occurrence
    matched: np.ndarray  # bool [W, C]
    typos: np.ndarray  # int8 [W, C] min typos among matching occurrences
    exact: np.ndarray  # bool [W, C] an exact (typo-free, non-prefix) occurrence exists
    attr: np.ndarray  # int64 [W, C] min (attribute rank << POS_BITS | position)
    max_weight: np.ndarray  # float32 [W, C] best expansion weight


def features(occs: list[Occurrences], field_rank: np.ndarray) -> Features:
    cands = np.unique(np.concatenate([o.docs for o in occs])) if occs else np.empty(0, np.uint32)
    n_words, n = len(occs), cands.size
    matched = np.zeros((n_words, n), dtype=bool)
    typos = np.full((n_words, n), 127, dtype=np.int8)
    exact = np.zeros((n_words, n), dtype=bool)
    attr = np.full((n_words, n), _NO_MATCH_ATTR, dtype=np.int64)
    max_weight = np.zeros((n_words, n), dtype=np.float32)
    index = []
    for i, o in enumerate(occs):
        idx = np.searchsorted(cands, o.docs)
        index.append(idx)
        matched[i, idx] = True
        np.minimum.at(typos[i], idx, o.typos)
        exact[i, idx[o.exact]] = True
        key = (field_rank[o.fields].astype(np.int64) << POS_BITS) | np.minimum(
            o.pos, (1 << POS_BITS) - 1).astype(np.int64)
        np.minimum.at(attr[i], idx, key)
        np.maximum.at(max_weight[i], idx, o.weight)
    return Features(cands, index, matched, typos, exact, attr, max_weight)


def pair_proximity(a: Occurrences, ia: np.ndarray, b: Occurrences, ib: np.ndarray, n: int,
                   subset: np.ndarray | None = None) -> np.ndarray:
    """Min proximity cost (1..7, 8 = not in the same attribute) from word a to word b.

    Both occurrence lists are merged in (candidate, field, position) order; the
    closest a/b pair is always adjacent in that order. b before a costs one more,
    as word order matters.
    """
    cost = np.full(n, 8, dtype=np.int16)
    if subset is not None:
        ma, mb = subset[ia], subset[ib]
        a_idx, b_idx = ia[ma], ib[mb]
        a_f, b_f, a_p, b_p = a.fields[ma], b.fields[mb], a.pos[ma], b.pos[mb]
    else:
        a_idx, b_idx, a_f, b_f, a_p, b_p = ia, ib, a.fields, b.fields, a.pos, b.pos
    if a_idx.size == 0 or b_idx.size == 0:
        return cost
    cand = np.concatenate([a_idx, b_idx])
    fld = np.concatenate([a_f, b_f])
    pos = np.concatenate([a_p, b_p]).astype(np.int64)
    label = np.concatenate([np.zeros(a_idx.size, np.int8), np.ones(b_idx.size, np.int8)])
    order = np.lexsort((label, pos, fld, cand))
    cand, fld, pos, label = cand[order], fld[order], pos[order], label[order]
    same = (cand[1:] == cand[:-1]) & (fld[1:] == fld[:-1]) & (label[1:] != label[:-1])
    if not same.any():
        return cost
    gap = pos[1:] - pos[:-1]
    dist = np.where(label[:-1] == 0, gap, gap + 1)
    dist = np.clip(dist, 1, 7).astype(np.int16)
    np.minimum.at(cost, cand[:-1][same], dist[same])
    return cost
