"""A product-search-style known-item task built from a collection's titles.

Short queries against short titles, where exact words matter and the dense model has
little to go on: documents are the collection's distinct titles alone (no body text),
and each query is 1-3 distinctive words of one title, judged relevant for that title
only. Everything comes from a seeded RNG, per document, so the task is the same on
every run and does not depend on which other documents were sampled.

"Distinctive": a token of 3+ letters and no digits, not a stop word, and in at most `MAX_DF` of the
titles (drops "study", "cells", "patients"). Words keep their order in the title and
are lower-cased, as a shopper would type them. Other titles may contain the same
words; only the sampled one counts as relevant, for every method alike.
"""

from __future__ import annotations

import random
import re
from collections import Counter

from benchmarks.hybrid.data import Collection
from benchmarks.typos import with_typos

SEED = 29
QUERIES = 500
MAX_DF = 0.01  # share of titles a query word may appear in
_TOKEN = re.compile(r"[^\W_]+")  # as the engines split words: "LKB1" is one token
# A generic English list (the query side of Lucene's and NLTK's), not Sift's own.
_STOP = """a about above after again against all also among an and any are as at be
    because been before being below between both but by can could did do does doing
    down during each few for from further had has have having her here his how if in
    into is it its itself may more most no nor not of off on once only or other our
    out over own same should so some such than that the their them then there these
    they this those through to too under until up upon using very via was we were what
    when where which while who whom why will with within without would you your"""
STOP_WORDS = frozenset(_STOP.split())


def words(title: str) -> list[str]:
    """Lower-cased tokens of 3+ letters (no digits), stop words left out."""
    return [
        w
        for w in _TOKEN.findall(title.lower())
        if len(w) >= 3 and w.isalpha() and w not in STOP_WORDS
    ]


def sample_query(title: str, rng: random.Random, distinctive: set[str]) -> str | None:
    """1-3 of the title's distinctive words, in title order; None if it has none."""
    candidates = list(dict.fromkeys(w for w in words(title) if w in distinctive))
    if not candidates:
        return None
    n = min(rng.choice((1, 2, 3)), len(candidates))
    picked = set(rng.sample(candidates, n))
    return " ".join(w for w in candidates if w in picked)


def titles_collection(
    coll: Collection, queries: int = QUERIES, seed: int = SEED, typos: bool = False
) -> Collection:
    """`coll`'s distinct non-empty titles as documents, with sampled known-item queries."""
    seen: set[str] = set()
    ids, titles = [], []
    for doc_id, title in zip(coll.ids, coll.titles, strict=True):
        key = " ".join(title.lower().split())
        if key and key not in seen:
            seen.add(key)
            ids.append(doc_id)
            titles.append(title.strip())
    df = Counter(w for t in titles for w in set(words(t)))
    distinctive = {w for w, n in df.items() if n <= max(1, MAX_DF * len(titles))}
    picked = random.Random(f"{seed}:{coll.name}").sample(range(len(ids)), len(ids))
    out_queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for i in picked:
        if len(out_queries) == queries:
            break
        doc_id = ids[i]
        query = sample_query(titles[i], random.Random(f"{seed}:{coll.name}:{doc_id}"), distinctive)
        if query is None:
            continue
        qid = f"t{doc_id}"
        if typos:
            query = with_typos(query, f"{seed}:{coll.name}:{qid}")
        out_queries[qid] = query
        qrels[qid] = {doc_id: 1}
    suffix = "titles-typos" if typos else "titles"
    return Collection(
        name=f"{coll.name}-{suffix}",
        ids=ids,
        titles=titles,
        texts=[""] * len(ids),
        queries=out_queries,
        qrels=qrels,
    )


def has_titles(coll: Collection) -> bool:
    """True when most documents have a title (npl has none)."""
    return sum(1 for t in coll.titles if t.strip()) >= 0.9 * len(coll.titles)
