"""JSONResponse (sift/http/responses.py) writes the bytes and headers it wrote through
orjson's OPT_NON_STR_KEYS and Starlette's general header code."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from starlette.responses import Response

from sift.http.responses import JSONResponse

CONTENTS: list[Any] = [
    {"hits": [{"id": "4983"}, {"id": 12}], "query": "cell", "processingTimeMs": 0,
     "limit": 10, "offset": 0, "estimatedTotalHits": 1000},
    {"facetDistribution": {"genre": {"drama": 3, "comédie": 1}}, "x": [1.5, -0.0, 1e300]},
    {"a": None, "b": True, "c": "\u2028 \"quoted\" \\ \x01", "d": {}},
    [],
    "text",
    {7: "seven", 2.5: "a float", False: "a bool", None: "null"},  # keys that are not strings
    {"nested": {3: [{"k": 4}]}},
]


@pytest.mark.parametrize("content", CONTENTS)
def test_the_body_is_orjson_s_with_non_string_keys(content: Any) -> None:
    assert JSONResponse(content).body == orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def test_content_orjson_cannot_write_is_refused_as_before() -> None:
    with pytest.raises(TypeError):
        JSONResponse({"when": object()})


@pytest.mark.parametrize("status", [200, 201, 202, 204, 304, 400, 404, 500])
@pytest.mark.parametrize("headers", [None, {"Retry-After": "3"}, {"Content-Type": "text/x"}])
@pytest.mark.parametrize("media_type", [None, "text/plain"])
def test_the_headers_are_starlette_s(
    status: int, headers: dict[str, str] | None, media_type: str | None
) -> None:
    ours = JSONResponse({"a": 1}, status_code=status, headers=headers, media_type=media_type)
    general = Response(ours.body, status_code=status, headers=headers,
                       media_type=media_type or "application/json")  # fmt: skip
    assert ours.raw_headers == general.raw_headers
