"""The load benchmark's two forms of a Sift search ask for the same search."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from benchmarks.load.targets import HttpTarget
from starlette.datastructures import QueryParams

from sift.http.routes.search import body_from_query


def test_the_query_string_form_is_the_json_body_form_as_a_get() -> None:
    post = HttpTarget("post", "sift", "http://127.0.0.1:1", {})
    get = HttpTarget("get", "sift", "http://127.0.0.1:1", {}, query_string=True)
    body_request = post.search_request("heart failure, beta")
    query_request = get.search_request("heart failure, beta")

    assert (body_request.method, query_request.method) == ("POST", "GET")
    assert query_request.body == ""
    url = urlsplit(query_request.path)
    assert url.path == body_request.path
    assert body_from_query(QueryParams(url.query)) == json.loads(body_request.body)
