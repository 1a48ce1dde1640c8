"""One parser for every integer a request carries, in a path, a query string or a body.

Meilisearch parses each integer into a fixed Rust type (a task uid is a `u32`, a search
limit a `usize`), so a value outside that type's range is a client error, never an
overflow further in. Only ASCII digits count: `str.isdigit()` also accepts `³` and
Arabic-Indic digits, which `int()` then refuses or, worse, reads as another number.
"""

from __future__ import annotations

import re
from typing import Any, Final

from sift.errors import SiftError
from sift.inputs.echo import kind_of, shown

U8: Final = (1 << 8) - 1
U32: Final = (1 << 32) - 1
U64: Final = (1 << 64) - 1
USIZE: Final = U64  # Meilisearch runs on 64-bit targets
SQL_BIGINT: Final = (1 << 63) - 1  # what SQLite and PostgreSQL integers hold

_DIGITS: Final = re.compile(r"[0-9]+")


def parse_uint(raw: str, maximum: int) -> int | None:
    """`raw` as an integer in 0..maximum when it is ASCII digits only, else None."""
    if len(raw) > len(str(maximum)) + 2 or _DIGITS.fullmatch(raw) is None:
        return None  # the length check comes first: int() of a huge string is quadratic
    value = int(raw)
    return value if value <= maximum else None


def uint_param(name: str, raw: str, maximum: int, code: str) -> int:
    """A query-string or path integer, with Meilisearch's message for a bad one."""
    value = parse_uint(raw, maximum)
    if value is None:
        raise SiftError(
            f"Invalid value in parameter `{name}`: could not parse `{shown(raw)}` as a positive "
            "integer",
            code,
        )
    return value


def uint_field(path: str, value: Any, maximum: int, code: str) -> int:
    """A JSON body integer (`path` as Meilisearch writes it, without the leading dot)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= maximum:
        return value
    raise SiftError(
        f"Invalid value type at `.{path}`: expected a positive integer, but found "
        f"{kind_of(value)}: `{shown(value)}`",
        code,
    )
