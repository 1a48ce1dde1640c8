"""A batch's word occurrences, computed for the batch at once.

Indexing used to walk every document's values word by word in Python (tokenise, look up
the term id, append a run); at 200k small documents that loop was most of an import. Here
the batch's distinct texts are analysed in one pass (Analyzer.sentences_many), term ids
are assigned in one pass, and everything else (which run belongs to which value, where
each word sits) follows in numpy from the sentence lengths.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

import numpy as np

from sift.engine.analysis import SENTENCE_GAP, Analyzer, spans
from sift.engine.store import ARRAY_GAP


def batch_postings(analyzer: Analyzer, term_id_of: Callable[[list[str]], np.ndarray],
                   texts: list[str], texts_per_value: list[int], value_doc: list[int],
                   value_field: list[int]
                   ) -> tuple[tuple[np.ndarray, ...] | None, np.ndarray]:
    """A batch's word occurrences (term, doc, field, position) and its (doc, field,
    words) lengths, computed for the batch at once: each distinct text is analysed
    once, and positions follow from the sentence lengths.

    Within one value, each sentence's words take the next positions, then
    SENTENCE_GAP more; each text of an array value ends with ARRAY_GAP - SENTENCE_GAP
    more, so that values of an array are never "close"."""
    # Each text's first position, the distinct texts in order of first appearance, and
    # each text's rank among them (first positions increase with the rank).
    first_at: dict[str, int] = {}
    at = np.fromiter(map(first_at.setdefault, texts, count()), dtype=np.int64,
                     count=len(texts))
    unique = list(first_at)
    analysed = analyzer.sentences_many(unique)
    word_tids = term_id_of(analysed.words)
    if analysed.codes is not None:  # the distinct words' ids, to every occurrence
        word_tids = word_tids[analysed.codes]
    # Per distinct text: its sentences and words, as ranges of the batch's arrays.
    u_sents = analysed.per_text
    u_sent0 = np.cumsum(u_sents) - u_sents
    sent_word0 = np.cumsum(analysed.lengths) - analysed.lengths
    words_before = np.concatenate(([0], np.cumsum(analysed.lengths)))
    u_words = words_before[u_sent0 + u_sents] - words_before[u_sent0]
    # Per text of the batch (repeats included) and per value.
    occ = np.searchsorted(np.fromiter(first_at.values(), dtype=np.int64, count=len(unique)), at)
    n_values = len(texts_per_value)
    occ_value = np.repeat(np.arange(n_values), np.asarray(texts_per_value, dtype=np.int64))
    value_words = np.bincount(occ_value, weights=u_words[occ], minlength=n_values)
    has_words = value_words > 0
    lengths = np.stack([np.asarray(value_doc, dtype=np.int64)[has_words],
                        np.asarray(value_field, dtype=np.int64)[has_words],
                        value_words[has_words].astype(np.int64)], axis=1)
    if not word_tids.size or not has_words.any():
        return None, lengths
    # Each text's sentences (runs of words), then one event closing the text: a run
    # advances the position by its words + SENTENCE_GAP, a closing event by
    # ARRAY_GAP - SENTENCE_GAP; a run starts at the sum of its value's earlier events.
    occ_sents = u_sents[occ]
    run_sent = spans(u_sent0[occ], occ_sents)
    run_len = analysed.lengths[run_sent]
    occ_event0 = np.cumsum(occ_sents + 1) - (occ_sents + 1)
    events = np.full(int(occ_sents.sum()) + len(texts), ARRAY_GAP - SENTENCE_GAP,
                         dtype=np.int64)
    run_event = spans(occ_event0, occ_sents)
    events[run_event] = run_len + SENTENCE_GAP
    before = np.cumsum(events) - events
    value_first = np.cumsum(texts_per_value) - np.asarray(texts_per_value)
    run_occ = np.repeat(np.arange(len(texts)), occ_sents)
    run_value = occ_value[run_occ]
    # texts_per_value may be 0 (an empty array): such a value has no runs.
    value_base = before[occ_event0[np.minimum(value_first, len(texts) - 1)]]
    run_start = before[run_event] - value_base[run_value]
    # Word positions: each run's start plus the word's offset inside the run.
    terms = word_tids[spans(sent_word0[run_sent], run_len)]
    run_word0 = np.cumsum(run_len) - run_len
    within = np.arange(int(run_len.sum()), dtype=np.int64) - np.repeat(run_word0, run_len)
    positions = np.repeat(run_start, run_len) + within
    doc_of = np.asarray(value_doc, dtype=np.uint32)[run_value]
    field_of = np.asarray(value_field, dtype=np.uint16)[run_value]
    return (terms, np.repeat(doc_of, run_len), np.repeat(field_of, run_len),
            np.minimum(positions, (1 << 20) - 1)), lengths
