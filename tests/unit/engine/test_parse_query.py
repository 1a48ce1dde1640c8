"""parse_query's shortcuts (no quote scan without a quote, the last word's test from the
query's end) give what the regex scans over the whole query give."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from sift.engine.analysis import Analyzer
from sift.engine.expand import parse_query

_ANALYZER = Analyzer()
# Word characters, separators, quotes and the newlines `$` treats apart.
_TEXT = st.text(alphabet=st.sampled_from(list('ab9_ é中"-\n\r\t.\u2028\u0301')), max_size=12)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_the_last_word_is_a_prefix_as_the_whole_query_scan_finds(q: str) -> None:
    words, last_prefix = parse_query(q, _ANALYZER, set())
    cursor = max((m.end() for m in re.finditer(r'"([^"]*)"', q)), default=0)
    assert last_prefix == (bool(words) and cursor < len(q)
                           and re.search(r"\w$", q) is not None)
    assert bool(words and words[-1].is_prefix) == (last_prefix and words[-1].phrase is None)


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_a_query_without_quotes_is_its_words(q: str) -> None:
    words, _ = parse_query(q.replace('"', " "), _ANALYZER, set())
    assert [w.text for w in words] == _ANALYZER.words(q.replace('"', " "))
    assert not any(w.quoted or w.phrase for w in words)


def test_quoted_words_and_phrases() -> None:
    words, last_prefix = parse_query('red "big dog" "cat" run', _ANALYZER, set())
    assert [(w.text, w.phrase, w.quoted) for w in words] == [
        ("red", None, False), ("big dog", ["big", "dog"], True), ("cat", None, True),
        ("run", None, False)]
    assert last_prefix and words[-1].is_prefix
    assert parse_query('run "cat"', _ANALYZER, set())[1] is False
    assert parse_query("run\n", _ANALYZER, set())[1] is True  # `$` before a final newline
    assert parse_query("run\n\n", _ANALYZER, set())[1] is False
