"""The search route's reads of its request headers (sift.http.routes.search): straight from
the ASGI scope, answering what Starlette's ``request.headers`` did."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from sift.http.routes.search import wants_metadata


def _request(*headers: tuple[bytes, bytes]) -> Request:
    return Request({"type": "http", "method": "POST", "path": "/indexes/a/search",
                    "headers": [(b"host", b"sift"), *headers]})


@pytest.mark.parametrize(("value", "wanted"), [
    (b"true", True), (b"1", True), (b" TRUE ", True), (b"True", True),
    (b"no", False), (b"false", False), (b"", False), (b"0", False),
])
def test_metadata_is_asked_for_by_its_header_as_starlette_reads_it(value: bytes,
                                                                   wanted: bool) -> None:
    request = _request((b"meili-include-metadata", value))
    assert wants_metadata(request) is wanted
    header = request.headers.get("meili-include-metadata", "")
    assert (header.strip().lower() in ("true", "1")) is wanted


def test_no_metadata_without_the_header_and_the_first_value_counts() -> None:
    assert wants_metadata(_request()) is False
    assert wants_metadata(_request((b"meili-include-metadata", b"1"),
                                   (b"meili-include-metadata", b"no"))) is True
    assert wants_metadata(_request((b"meili-include-metadata", b"no"),
                                   (b"meili-include-metadata", b"1"))) is False
