"""sift.http.headers.header reads a header as Starlette's `Headers.get` does."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from sift.http.headers import header

RAW = [
    (b"host", b"127.0.0.1"),
    (b"authorization", b"Bearer first"),
    (b"x-ms-user-id", "visitor-\u00e9".encode("latin-1")),
    (b"authorization", b"Bearer second"),
    (b"content-type", b"application/json"),
]


@pytest.mark.parametrize(
    "name", ["authorization", "x-ms-user-id", "content-type", "content-encoding", "host"]
)
def test_a_header_reads_as_starlette_reads_it(name: str) -> None:
    scope = {"type": "http", "headers": RAW}
    assert header(scope, name.encode()) == Headers(scope=scope).get(name)


def test_the_first_of_repeated_headers_and_none_for_an_absent_one() -> None:
    scope = {"type": "http", "headers": RAW}
    assert header(scope, b"authorization") == "Bearer first"
    assert header(scope, b"x-ms-user-id") == "visitor-\u00e9"
    assert header(scope, b"content-encoding") is None
