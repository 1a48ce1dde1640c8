"""One request header read straight from the ASGI scope.

`request.headers.get(name)` builds Starlette's `Headers` for the request, scans it in
Python and, for a header the request lacks (`Content-Encoding`, `X-MS-USER-ID` on most
requests), raises and catches a `KeyError` on the way: about a microsecond a lookup on
the paths that take thousands of requests a second (`POST /events`, search). This reads
the same value: the first header of that name, as Latin-1, the names being lowercase in
the scope (ASGI).
"""

from __future__ import annotations

from starlette.types import Scope


def _raw(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lowercase), or None; as Starlette's
    ``Headers.get`` answers it."""
    value = _raw(scope, name)
    return None if value is None else value.decode("latin-1")


def utf8_header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` as UTF-8 text, or None where it is absent or its
    bytes are not UTF-8. For a value kept as text (a user id): read as Latin-1, a client's
    UTF-8 `é` became `Ã©`, another user than the body's `"userId": "é"`."""
    value = _raw(scope, name)
    try:
        return None if value is None else value.decode("utf-8")
    except UnicodeDecodeError:
        return None
