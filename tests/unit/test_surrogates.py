"""sift.inputs.surrogates: a JSON text's escaped lone surrogates found on its bytes, in
any chunks, exactly where Python's json module reads a lone surrogate into a string."""

from __future__ import annotations

import json
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sift.inputs.surrogates import LoneSurrogate, SurrogateScanner

# Halves of pairs alone and together, backslashes before them (escaped: the text's
# letters "ud800" after a backslash), and the letters of an escape written out.
PIECES = ["a", "\ud800", "\udbff", "\udc00", "\udfff", "\U0001d11e", "\\", "\\\\", "u",
          "ud800", "udc00", "\\ud800", "\\udc00", "\"", "é", "\u00e9"]


def _scan(text: bytes, cuts: list[int]) -> int | None:
    """Where the scanner finds a lone surrogate fed ``text`` cut at ``cuts``, or None."""
    scanner = SurrogateScanner()
    bounds = [0, *sorted(c % (len(text) + 1) for c in cuts), len(text)]
    try:
        for a, b in pairwise(bounds):
            scanner.feed(text[a:b])
        scanner.finish()
    except LoneSurrogate as exc:
        return exc.offset
    return None


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=8).map("".join), max_size=4),
       st.lists(st.integers(0, 10_000), max_size=6), st.booleans())
def test_lone_surrogates_are_found_where_json_reads_them(
        values: list[str], cuts: list[int], upper: bool) -> None:
    text = json.dumps([{"id": i, "t": v} for i, v in enumerate(values)])  # \ud800 escapes
    if upper:  # JSON's hex digits in either case
        text = text.replace("\\ud8", "\\uD8").replace("\\udc00", "\\uDC00")
    lone = any(_has_lone(doc["t"]) for doc in json.loads(text))
    found = _scan(text.encode(), cuts)
    assert (found is not None) == lone, text


def _has_lone(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@pytest.mark.parametrize(("text", "offset"), [
    (b'"\\ud800"', 1), (b'"\\udc00"', 1), (b'"\\ud800\\ud800\\udc00"', 1),
    (b'"\\ud800\\\\udc00"', 1), (b'"\\ud834\\udd1e\\udd1e"', 13), (b'"\\\\\\udfff"', 3),
    (b'"\\\\ud800 \\ud834\\uDD1E"', None), (b'"' + b"\\" * 100_001 + b'ud800"', 100_001),
])
def test_lone_surrogates_at_their_escapes(text: bytes, offset: int | None) -> None:
    for size in (1, 2, 5, len(text)):
        assert _scan(text, list(range(size, len(text), size))) == offset
