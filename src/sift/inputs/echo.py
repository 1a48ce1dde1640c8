"""Client values quoted back in error messages: as JSON, and never longer than a line.

Meilisearch quotes the offending value in its messages; a value can be a whole document
or a megabyte string, so the quote is cut (and says so) instead of growing the answer
and the logs with the request.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

MAX_SHOWN: Final = 200  # characters of a value quoted in an error message


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """`value` as JSON (a string as it is), cut to `limit` characters with a marker."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = orjson.dumps(value).decode()
        except TypeError:  # an integer beyond 64 bits or nesting beyond orjson's limit
            text = str(value) if isinstance(value, int) else "…"
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def kind_of(value: Any) -> str:
    """Meilisearch's words for a JSON value's type in `expected X, but found Y` messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a positive integer" if value >= 0 else "a negative integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
