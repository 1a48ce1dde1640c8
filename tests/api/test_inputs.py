"""Hostile inputs through the ASGI app: each answers Meilisearch's 4xx and stores nothing."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.conftest import run_task

BIG = "9223372036854775808"  # 2**63: one past SQLite's and PostgreSQL's integers
HUGE = 1 << 70  # past u64, so past every integer type Meilisearch has

QUERY_CASES = [
    ("/tasks/³", "invalid_task_uids"),
    ("/tasks/%D9%A3", "invalid_task_uids"),  # Arabic-Indic 3, not task 3
    (f"/tasks/{BIG}", "invalid_task_uids"),
    ("/batches/³", "invalid_batch_uid"),
    (f"/batches/{BIG}", "invalid_batch_uid"),
    (f"/tasks?limit={BIG}", "invalid_task_limit"),
    (f"/tasks?from={BIG}", "invalid_task_from"),
    ("/tasks?from=%D9%A3", "invalid_task_from"),
    (f"/tasks?uids={BIG}", "invalid_task_uids"),
    ("/tasks?uids=1,³", "invalid_task_uids"),
    (f"/tasks?batchUids={BIG}", "invalid_task_uids"),
    (f"/tasks?canceledBy={BIG}", "invalid_task_canceled_by"),
    (f"/batches?limit={BIG}", "invalid_task_limit"),
    ("/indexes/books/search?limit=³", "invalid_search_limit"),
    ("/indexes/books/search?offset=³", "invalid_search_offset"),
    ("/indexes/books/search?page=³", "invalid_search_page"),
    ("/indexes/books/search?hitsPerPage=³", "invalid_search_hits_per_page"),
    ("/indexes/books/search?cropLength=³", "invalid_search_crop_length"),
    (f"/indexes/books/search?limit={HUGE}", "invalid_search_limit"),
    ("/indexes/books/search?vector=x", "invalid_search_vector"),
    ("/indexes/books/search?hybridSemanticRatio=x", "invalid_search_semantic_ratio"),
    ("/indexes/books/documents?limit=³", "invalid_document_limit"),
    ("/indexes?limit=³", "invalid_index_limit"),
    ("/keys?offset=³", "invalid_api_key_offset"),
    ("/analytics/top-queries?limit=³", "invalid_analytics_limit"),
    ("/indexes/books/similar?id=1&limit=³", "invalid_similar_limit"),
]


@pytest.fixture
def books(client: TestClient) -> TestClient:
    run_task(client, "POST", "/indexes/books/documents", json=[{"id": 1, "title": "Dune"}])
    return client


@pytest.mark.parametrize(("url", "code"), QUERY_CASES)
def test_bad_integers_in_paths_and_queries(books: TestClient, url: str, code: str) -> None:
    response = books.get(url)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    ("method", "url", "body", "code"),
    [
        (
            "POST",
            "/indexes/books/documents/fetch",
            {"limit": int(BIG) * 4},
            "invalid_document_limit",
        ),
        ("POST", "/indexes/books/search", {"limit": HUGE}, "invalid_search_limit"),
        ("POST", "/indexes/books/search", {"offset": -1}, "invalid_search_offset"),
        ("POST", "/indexes/books/fields", {"limit": HUGE}, "invalid_index_limit"),
        (
            "POST",
            "/multi-search",
            {"federation": {"limit": HUGE}, "queries": [{"indexUid": "books"}]},
            "invalid_multi_search_federation",
        ),
    ],
)
def test_bad_integers_in_bodies(
    books: TestClient, method: str, url: str, body: Any, code: str
) -> None:
    response = books.request(method, url, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    "url",
    [f"/indexes/books/documents?limit={BIG}&offset={BIG}", f"/indexes?offset={BIG}"],
)
def test_usize_values_past_sql_integers_are_an_empty_page(books: TestClient, url: str) -> None:
    response = books.get(url)
    assert response.status_code == 200, response.text
    assert response.json()["results"] == []


def test_fetch_with_a_usize_limit_past_sql_integers(books: TestClient) -> None:
    response = books.post("/indexes/books/documents/fetch", json={"limit": int(BIG)})
    assert response.status_code == 200, response.text
    assert [d["id"] for d in response.json()["results"]] == [1]


def test_task_cancelation_with_an_out_of_range_uid(books: TestClient) -> None:
    for request in (books.post, books.delete):
        url = f"/tasks/cancel?uids={BIG}" if request == books.post else f"/tasks?uids={BIG}"
        response = request(url)
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_task_uids"


def test_crop_length_in_attributes_to_crop(books: TestClient) -> None:
    for entry in ("title:³", f"title:{HUGE}"):
        response = books.get(f"/indexes/books/search?q=dune&attributesToCrop={entry}")
        assert response.status_code == 200, response.text
        assert response.json()["hits"][0]["_formatted"]["title"] == "Dune"


def _task_count(client: TestClient) -> int:
    return int(client.get("/tasks?limit=0").json()["total"])


@pytest.mark.parametrize("fmt", ["application/json", "application/x-ndjson"])
@pytest.mark.parametrize("depth", [129, 1_000, 100_000])
def test_deep_documents_are_malformed_and_store_nothing(
    books: TestClient, fmt: str, depth: int
) -> None:
    before = _task_count(books)
    body = b'{"id": 2, "a": ' + b"[" * depth + b"]" * depth + b"}"
    response = books.post("/indexes/books/documents", content=body, headers={"Content-Type": fmt})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "malformed_payload"
    assert "recursion limit of 128" in response.json()["message"]
    assert _task_count(books) == before


def test_documents_at_the_depth_limit_are_stored(books: TestClient) -> None:
    body = b'[{"id": 2, "a": ' + b"[" * 126 + b"]" * 126 + b"}]"  # 128 levels in all
    task = run_task(
        books,
        "POST",
        "/indexes/books/documents",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert task["status"] == "succeeded", task


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", "/indexes/books/search"),
        ("PATCH", "/indexes/books/settings"),
        ("POST", "/indexes/books/documents/delete-batch"),
        ("POST", "/multi-search"),
        ("POST", "/keys"),
    ],
)
def test_deep_bodies_are_malformed_on_every_json_route(
    books: TestClient, method: str, url: str
) -> None:
    body = b"[" * 300 + b"]" * 300  # parses (orjson allows 1024 levels), could not be echoed
    response = books.request(
        method, url, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "malformed_payload"


def test_integers_past_64_bits_in_documents(books: TestClient) -> None:
    before = _task_count(books)
    response = books.post(
        "/indexes/books/documents",
        content=b'[{"id": 3, "n": 123456789012345678901234567890}]',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_payload"
    assert _task_count(books) == before


def test_error_messages_never_echo_a_whole_document(books: TestClient) -> None:
    response = books.post("/indexes/books/documents", json=["x" * 1_000_000])
    assert response.status_code == 400
    assert len(response.text) < 1_000


def test_index_uids_refuse_a_final_newline(client: TestClient) -> None:
    for call in (
        lambda: client.post("/indexes", json={"uid": "books\n"}),
        lambda: client.get("/indexes/books%0A"),
    ):
        response = call()
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid_index_uid"


def test_the_uid_length_message_says_the_real_limit(client: TestClient) -> None:
    response = client.post("/indexes", json={"uid": "a" * 401})
    assert response.status_code == 400
    assert "more than 400 bytes" in response.json()["message"]
    assert client.post("/indexes", json={"uid": "a" * 400}).status_code == 202


def test_document_ids_refuse_a_final_newline(books: TestClient) -> None:
    task = run_task(books, "POST", "/indexes/books/documents", json=[{"id": "abc\n"}])
    assert task["status"] == "failed"
    assert task["error"]["code"] == "invalid_document_id"


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    first, second = client.get("/health"), client.get("/nothing-here")
    assert len(first.headers["x-request-id"]) == 16
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("url", ["http://[::1", "http://host:port/", "http://h:99999999999/"])
def test_webhook_urls_that_do_not_parse(client: TestClient, url: str) -> None:
    response = client.post("/webhooks", json={"url": url})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_webhook_url"


@pytest.mark.parametrize("fmt", ["application/json", "text/csv"])
def test_documents_with_too_many_fields(books: TestClient, fmt: str) -> None:
    names = [f"f{i}" for i in range(65_536)]
    if fmt == "text/csv":
        body = (",".join(names) + "\n" + ",".join("1" * len(names)) + "\n").encode()
    else:
        body = orjson.dumps([dict.fromkeys(names, 1)])
    response = books.post("/indexes/books/documents", content=body, headers={"Content-Type": fmt})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "max_fields_limit_exceeded"


# An escaped lone low surrogate (yajl wrote its bytes, ijson failed to decode them: a
# 500), a lone high one (yajl stored "?"), raw UTF-8 bytes of a surrogate, in a value or
# a key (Meilisearch's serde_json refuses each).
@pytest.mark.parametrize("body", [
    b'[{"id": 2, "t": "a\\udfff\\u01c5"}]',
    b'[{"id": 2, "t": "\\ud800\\u01c5"}]',
    b'[{"id": 2, "t": "\\ud800"}, {"id": 3, "t": "\\\\ud800 \\ud834\\udd1e"}]',
    b'[{"id": 2, "\\udfff": "x"}]',
    b'[{"id": 2, "t": "\xed\xa0\x80"}]',
    b'{"id": 2, "t": "\\ud800\\u01c5"}',
])
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_lone_surrogates_in_json_documents_are_malformed_and_store_nothing(
    books: TestClient, body: bytes, method: str
) -> None:
    before = _task_count(books)
    response = books.request(method, "/indexes/books/documents", content=body,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "malformed_payload"
    assert _task_count(books) == before


USIZE_MAX = (1 << 64) - 1


# Usize windows past int64 (a kernel's row count was their sum: OverflowError, a 500; a
# federation's leg asked a limit past usize: a 400): the page they name, empty or whole.
@pytest.mark.parametrize(("window", "hits"), [
    ({"page": 10**19}, 0), ({"hitsPerPage": 10**19}, 1), ({"offset": 1 << 63}, 0),
    ({"limit": USIZE_MAX}, 1), ({"page": 2, "hitsPerPage": USIZE_MAX}, 0),
    ({"offset": USIZE_MAX, "limit": USIZE_MAX}, 0),
])
def test_usize_search_windows_past_int64(books: TestClient, window: dict[str, int],
                                         hits: int) -> None:
    response = books.post("/indexes/books/search", json={"q": "dune", **window})
    assert response.status_code == 200, response.text
    assert len(response.json()["hits"]) == hits
    response = books.post("/multi-search", json={
        "federation": window, "queries": [{"indexUid": "books", "q": "dune"}]})
    assert response.status_code == 200, response.text
    assert len(response.json()["hits"]) == hits


def test_surrogate_pairs_and_escaped_backslashes_are_stored_as_written(books: TestClient
                                                                       ) -> None:
    body = b'[{"id": 3, "t": "\\\\ud800 \\ud834\\udd1e \\uD834\\uDD1E"}]'
    task = run_task(books, "POST", "/indexes/books/documents", content=body,
                    headers={"Content-Type": "application/json"})
    assert task["status"] == "succeeded", task
    assert books.get("/indexes/books/documents/3").json()["t"] == "\\ud800 \U0001d11e \U0001d11e"


UTF8_CASES = [
    ("/indexes/books/search?q=%FF%FE", "invalid_search_q"),
    ("/indexes/books/search?q=%ED%A0%80", "invalid_search_q"),  # a surrogate's bytes
    ("/indexes/books/search?q=dune&filter=title%3D%E9", "invalid_search_filter"),
    ("/indexes/books/search?attributesToRetrieve=%C3", "invalid_search_attributes_to_retrieve"),
    ("/indexes/books/search?sort=%FF", "invalid_search_sort"),
    ("/indexes/books/search?facets=%FF", "invalid_search_facets"),
    ("/indexes/books/search?%FF=1", "bad_request"),
    ("/indexes/books/documents?filter=%FF", "invalid_document_filter"),
    ("/indexes/books/documents?fields=%FF", "invalid_document_fields"),
    ("/indexes/books/documents?sort=%FF", "invalid_document_sort"),
    ("/indexes/books/documents?ids=%FF", "invalid_document_ids"),
    ("/indexes/books/documents/1?fields=%FF", "invalid_document_fields"),
    ("/indexes/books/similar?id=%FF", "invalid_similar_id"),
]


@pytest.mark.parametrize(("url", "code"), UTF8_CASES)
def test_query_strings_that_are_not_utf8_are_refused(books: TestClient, url: str, code: str
                                                     ) -> None:
    """Decoded with replacement characters, `q=%FF%FE` was a query without words, which
    matched every document (and a filter or a field with them matched nothing)."""
    response = books.get(url)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code
    assert "not valid UTF-8" in response.json()["message"]


def test_percent_encoded_utf8_still_searches(books: TestClient) -> None:
    run_task(books, "POST", "/indexes/books/documents", json=[{"id": 2, "title": "Étude"}])
    response = books.get("/indexes/books/search?q=%C3%A9tude&attributesToRetrieve=id%2Ctitle")
    assert response.status_code == 200, response.text
    assert response.json()["hits"] == [{"id": 2, "title": "Étude"}]
