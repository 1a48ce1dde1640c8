from fastapi.testclient import TestClient

from tests.conftest import run_task


def test_add_json_ndjson_csv_and_read_back(client: TestClient) -> None:
    task = run_task(
        client,
        "POST",
        "/indexes/books/documents",
        json=[
            {"id": 1, "title": "Dune", "year": 1965},
            {"id": "two", "title": "Emma", "year": 1815},
        ],
    )
    assert task["status"] == "succeeded", task
    assert task["details"] == {"receivedDocuments": 2, "indexedDocuments": 2}
    assert client.get("/indexes/books").json()["primaryKey"] == "id"

    ndjson = b'{"id": 3, "title": "Ulysses"}\n\n{"id": 4, "title": "Beloved"}\n'
    run_task(
        client,
        "POST",
        "/indexes/books/documents",
        content=ndjson,
        headers={"Content-Type": "application/x-ndjson"},
    )
    csv = b"id;title;year:number\n5;Middlemarch;1871\n"
    run_task(
        client,
        "POST",
        "/indexes/books/documents?csvDelimiter=%3B",
        content=csv,
        headers={"Content-Type": "text/csv"},
    )

    assert client.get("/indexes/books/documents/5").json() == {
        "id": "5",
        "title": "Middlemarch",
        "year": 1871,
    }
    listing = client.get(
        "/indexes/books/documents", params={"fields": "title", "limit": 2, "offset": 1}
    ).json()
    assert listing == {
        "results": [{"title": "Emma"}, {"title": "Ulysses"}],
        "offset": 1,
        "limit": 2,
        "total": 5,
    }
    fetched = client.post("/indexes/books/documents/fetch", json={"ids": ["4", "1"]}).json()
    assert [d["id"] for d in fetched["results"]] == [1, 4]


def test_replace_versus_update(client: TestClient) -> None:
    run_task(client, "POST", "/indexes/b/documents", json=[{"id": 1, "a": 1, "b": 2}])
    run_task(client, "PUT", "/indexes/b/documents", json=[{"id": 1, "b": 3}])
    assert client.get("/indexes/b/documents/1").json() == {"id": 1, "a": 1, "b": 3}
    run_task(client, "POST", "/indexes/b/documents", json=[{"id": 1, "c": 4}])
    assert client.get("/indexes/b/documents/1").json() == {"id": 1, "c": 4}


def test_invalid_documents_fail_the_task_and_change_nothing(client: TestClient) -> None:
    run_task(client, "POST", "/indexes/b/documents", json=[{"id": 1}])
    bad = run_task(client, "POST", "/indexes/b/documents", json=[{"id": 2}, {"id": "a b"}])
    assert bad["status"] == "failed"
    assert bad["error"]["code"] == "invalid_document_id"
    missing = run_task(client, "POST", "/indexes/b/documents", json=[{"id": 3}, {"title": "x"}])
    assert missing["error"]["code"] == "missing_document_id"
    assert client.get("/indexes/b/documents").json()["total"] == 1


def test_primary_key_inference_errors(client: TestClient) -> None:
    none = run_task(client, "POST", "/indexes/x/documents", json=[{"title": "a"}])
    assert none["error"]["code"] == "index_primary_key_no_candidate_found"
    many = run_task(client, "POST", "/indexes/y/documents", json=[{"id": 1, "sku_id": 2}])
    assert many["error"]["code"] == "index_primary_key_multiple_candidates_found"
    explicit = run_task(
        client, "POST", "/indexes/y/documents?primaryKey=sku_id", json=[{"id": 1, "sku_id": 2}]
    )
    assert explicit["status"] == "succeeded"


def test_bad_payloads_are_refused_before_a_task_exists(client: TestClient) -> None:
    url = "/indexes/b/documents"
    assert (
        client.post(url, content=b"[{", headers={"Content-Type": "application/json"}).json()["code"]
        == "malformed_payload"
    )
    assert (
        client.post(url, content=b"", headers={"Content-Type": "application/json"}).json()["code"]
        == "missing_payload"
    )
    r = client.post(url, content=b"[]", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and r.json()["code"] == "invalid_content_type"
    r = client.post(url, content=b"[1, 2]", headers={"Content-Type": "application/json"})
    assert r.json()["code"] == "malformed_payload"
    assert client.get("/tasks").json()["total"] == 0


def test_payload_size_limit(tmp_path) -> None:
    from tests.conftest import make_client

    with make_client(tmp_path, max_payload_bytes=100) as c:
        r = c.post(
            "/indexes/b/documents",
            content=b"[" + b'{"id":1},' * 50 + b'{"id":2}]',
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_deletions(client: TestClient) -> None:
    run_task(client, "POST", "/indexes/b/documents", json=[{"id": i} for i in range(10)])
    one = run_task(client, "DELETE", "/indexes/b/documents/3")
    assert one["type"] == "documentDeletion"
    assert one["details"] == {"providedIds": 1, "deletedDocuments": 1}
    batch = run_task(client, "POST", "/indexes/b/documents/delete-batch", json=[4, "5", 99])
    assert batch["details"] == {"providedIds": 3, "deletedDocuments": 2}
    assert client.get("/indexes/b/documents/4").json()["code"] == "document_not_found"
    everything = run_task(client, "DELETE", "/indexes/b/documents")
    assert everything["details"]["deletedDocuments"] == 7
    assert client.get("/indexes/b/documents").json()["total"] == 0


def test_an_empty_filter_never_deletes_everything(client: TestClient) -> None:
    run_task(client, "POST", "/indexes/keep/documents", json=[{"id": 1}, {"id": 2}])
    for empty in ("", "  ", [], [[]], ["", [" "]]):
        r = client.post("/indexes/keep/documents/delete", json={"filter": empty})
        assert r.status_code == 400 and r.json()["code"] == "invalid_document_filter", empty
        assert r.json()["message"] == "Sending an empty filter is forbidden."
    assert client.get("/indexes/keep/documents").json()["total"] == 2


def test_skip_creation_only_touches_stored_documents(client: TestClient) -> None:
    run_task(client, "POST", "/indexes/sc/documents", json=[{"id": 1, "t": "a", "n": 1}])
    for method in ("PUT", "POST"):
        task = run_task(client, method, "/indexes/sc/documents?skipCreation=true",
                        json=[{"id": 1, "t": method}, {"id": 999, "t": "new"}])  # fmt: skip
        assert task["status"] == "succeeded" and task["details"]["indexedDocuments"] == 1
        assert client.get("/indexes/sc/documents/999").json()["code"] == "document_not_found"
    # PUT merged (n kept), then POST replaced (n gone).
    assert client.get("/indexes/sc/documents/1").json() == {"id": 1, "t": "POST"}
    bad = client.post("/indexes/sc/documents?skipCreation=maybe", json=[{"id": 2}])
    assert bad.status_code == 400


def test_document_listing_sorts_by_sortable_attributes(client: TestClient) -> None:
    docs = [{"id": 1, "g": "b", "y": 3}, {"id": 2, "g": "a", "y": 1}, {"id": 3, "g": "b", "y": 1}]
    run_task(client, "POST", "/indexes/srt/documents", json=docs)
    run_task(client, "PATCH", "/indexes/srt/settings",
             json={"sortableAttributes": ["g", "y"], "filterableAttributes": ["g"]})  # fmt: skip
    got = client.post("/indexes/srt/documents/fetch", json={"sort": ["g:asc", "y:desc"]}).json()
    assert [d["id"] for d in got["results"]] == [2, 1, 3] and got["total"] == 3
    got = client.get("/indexes/srt/documents?sort=y:asc,g:desc&limit=2").json()
    assert [d["id"] for d in got["results"]] == [3, 2] and got["total"] == 3
    got = client.post("/indexes/srt/documents/fetch",
                      json={"sort": ["y:asc"], "filter": "g = b"}).json()  # fmt: skip
    assert [d["id"] for d in got["results"]] == [3, 1]
    bad = client.post("/indexes/srt/documents/fetch", json={"sort": ["id:asc"]})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_document_sort"
    assert "Attribute `id` is not sortable" in bad.json()["message"]


def test_filtering_on_an_unfilterable_attribute_points_at_it(client: TestClient) -> None:
    run_task(client, "POST", "/indexes/nf/documents", json=[{"id": 1}])
    r = client.get("/indexes/nf/documents", params={"filter": "id = 1"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_document_filter"
    assert r.json()["message"] == (
        "Attribute `id` is not filterable. This index does not have configured filterable "
        "attributes.\n1:3 id = 1"
    )
