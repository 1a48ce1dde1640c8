"""sift.inputs: the nesting scan against a byte-by-byte reference, integers, quoting,
query strings that are not UTF-8."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sift.errors import SiftError
from sift.inputs import (
    U32,
    USIZE,
    DepthScanner,
    TooDeep,
    check_depth,
    check_utf8,
    parse_uint,
    shown,
    uint_field,
    uint_param,
)


def reference_depth(text: bytes) -> int:
    """The deepest nesting of a JSON text, one character at a time."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text.decode():
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def scanned_depth(text: bytes, chunk: int) -> int:
    """The deepest nesting the scanner lets through, fed `chunk` bytes at a time."""
    for limit in range(0, 64):
        scanner = DepthScanner(limit)
        try:
            for start in range(0, len(text), chunk):
                scanner.feed(text[start : start + chunk])
        except TooDeep:
            continue
        return limit
    raise AssertionError("deeper than the test expects")


tricky_text = st.sampled_from(list('"\\[]{}aé'))  # JSON escapes them as \" and \\
json_values = st.recursive(
    st.none() | st.integers(-(2**63), 2**63) | st.text(tricky_text) | st.booleans(),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(tricky_text, max_size=4), inner, max_size=3),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.sampled_from([1, 2, 3, 5, 64, 1 << 20]))
def test_the_scan_agrees_with_a_character_by_character_reading(value: object, chunk: int) -> None:
    text = orjson.dumps(value)
    assert scanned_depth(text, chunk) == reference_depth(text)


def test_too_deep_names_the_first_byte_past_the_limit() -> None:
    with pytest.raises(TooDeep) as raised:
        check_depth(b'{"a": ' + b"[" * 200, limit=128)
    assert raised.value.offset == 6 + 127  # `{` is level 1, the 128th `[` level 129
    check_depth(b"[" * 128 + b"]" * 128, limit=128)


def test_depth_is_checked_whether_or_not_brackets_outnumber_the_limit() -> None:
    check_depth(b'{"q": "[[[[", "f": [1]}', limit=2)  # five opening bytes, depth 2
    with pytest.raises(TooDeep):
        check_depth(b'{"f": [[1]]}', limit=2)  # three opening bytes, depth 3
    check_depth(b'{"f": [[1]]}', limit=3)  # as many as the limit: no scan needed


NOT_INTEGERS = ["³", "\u0663", "\uff11", "+1", "-1", " 1", "1.0", "", "0x1", "1_000"]


@pytest.mark.parametrize("raw", NOT_INTEGERS)
def test_only_ascii_digits_are_integers(raw: str) -> None:
    assert parse_uint(raw, USIZE) is None


def test_integers_are_range_checked_against_their_type() -> None:
    assert parse_uint(str(U32), U32) == U32
    assert parse_uint(str(U32 + 1), U32) is None
    assert parse_uint(str(USIZE), USIZE) == USIZE
    assert parse_uint("9" * 100_000, USIZE) is None  # refused before int() reads it
    with pytest.raises(SiftError) as raised:
        uint_param("limit", "³", U32, "invalid_task_limit")
    assert raised.value.code == "invalid_task_limit"
    assert raised.value.message == (
        "Invalid value in parameter `limit`: could not parse `³` as a positive integer"
    )


@pytest.mark.parametrize("value", [True, -1, 1.5, "1", None, [1], USIZE + 1])
def test_body_integers_refuse_other_types_and_ranges(value: object) -> None:
    with pytest.raises(SiftError) as raised:
        uint_field("limit", value, USIZE, "invalid_search_limit")
    assert raised.value.code == "invalid_search_limit"
    assert raised.value.message.startswith("Invalid value type at `.limit`: expected a positive")


def test_quoted_values_are_cut_to_a_line() -> None:
    assert shown({"a": 1}) == '{"a":1}'
    long = shown("x" * 10_000)
    assert len(long) < 250 and long.endswith("(10,000 characters)")
    assert shown(1 << 70) == str(1 << 70)  # past orjson's 64 bits, still shown


# Pieces of query strings: separators, ASCII, escapes of ASCII and of bytes past it
# (UTF-8 lead and continuation bytes, bytes never in UTF-8), a raw byte past ASCII, and
# a cut escape.
QUERY_PIECES = st.lists(st.sampled_from(
    [b"&", b"=", b"+", b"q", b"filter", b"a", b"%20", b"%3D", b"%26", b"%C3", b"%a9", b"%A9",
     b"%E2%82%AC", b"%F0%9D%84%9E", b"%FF", b"%ED%A0%80", b"%C0%80", b"\xe9", b"%", b"%8"]),
    max_size=12).map(b"".join)


@given(QUERY_PIECES)
def test_check_utf8_refuses_exactly_the_parameters_that_do_not_decode(query: bytes) -> None:
    def decodes(part: bytes) -> bool:
        try:
            unquote_to_bytes(part).decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    pairs = [pair.partition(b"=") for pair in query.split(b"&")]
    bad = [name for name, _, value in pairs if not (decodes(name) and decodes(value))]
    codes = {"q": "invalid_search_q"}
    if not bad:
        check_utf8(query, codes)
        return
    with pytest.raises(SiftError) as raised:
        check_utf8(query, codes)
    assert raised.value.code == ("invalid_search_q" if bad[0] == b"q" else "bad_request")
