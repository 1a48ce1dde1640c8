from fastapi.testclient import TestClient

from tests.conftest import run_task


def test_create_get_list_delete_index(client: TestClient) -> None:
    task = run_task(client, "POST", "/indexes", json={"uid": "movies", "primaryKey": "id"})
    assert task["status"] == "succeeded"
    assert task["type"] == "indexCreation"
    assert task["details"] == {"primaryKey": "id"}

    index = client.get("/indexes/movies").json()
    assert index["uid"] == "movies" and index["primaryKey"] == "id"
    assert index["createdAt"].endswith("Z")

    listing = client.get("/indexes", params={"limit": 1}).json()
    assert listing["total"] == 1 and listing["limit"] == 1
    assert [i["uid"] for i in listing["results"]] == ["movies"]

    task = run_task(client, "DELETE", "/indexes/movies")
    assert task["status"] == "succeeded"
    assert client.get("/indexes/movies").status_code == 404


def test_creating_an_existing_index_fails_the_task(client: TestClient) -> None:
    run_task(client, "POST", "/indexes", json={"uid": "a"})
    task = run_task(client, "POST", "/indexes", json={"uid": "a"})
    assert task["status"] == "failed"
    assert task["error"]["code"] == "index_already_exists"
    assert task["error"]["type"] == "invalid_request"


def test_missing_index_is_a_404_in_meilisearch_format(client: TestClient) -> None:
    response = client.get("/indexes/nope")
    assert response.status_code == 404
    assert response.json() == {
        "message": "Index `nope` not found.",
        "code": "index_not_found",
        "type": "invalid_request",
        "link": "https://docs.meilisearch.com/errors#index_not_found",
    }


def test_bad_index_creation_requests_change_nothing(client: TestClient) -> None:
    bad_uid = client.post("/indexes", json={"uid": "not valid!"})
    assert bad_uid.status_code == 400 and bad_uid.json()["code"] == "invalid_index_uid"
    unknown = client.post("/indexes", json={"uid": "x", "colour": "red"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "bad_request"
    missing = client.post("/indexes", json={})
    assert missing.json()["code"] == "missing_index_uid"
    malformed = client.post(
        "/indexes", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.json()["code"] == "malformed_payload"
    wrong_type = client.post("/indexes", content=b"uid=x", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415 and wrong_type.json()["code"] == "invalid_content_type"
    assert client.get("/tasks").json()["total"] == 0


def test_update_primary_key_and_swap(client: TestClient) -> None:
    run_task(client, "POST", "/indexes", json={"uid": "a"})
    run_task(client, "POST", "/indexes", json={"uid": "b"})
    task = run_task(client, "PATCH", "/indexes/a", json={"primaryKey": "sku"})
    assert task["status"] == "succeeded"
    assert client.get("/indexes/a").json()["primaryKey"] == "sku"
    run_task(client, "POST", "/indexes/b/documents", json=[{"id": 1}])
    task = run_task(client, "POST", "/swap-indexes", json=[{"indexes": ["a", "b"]}])
    assert task["status"] == "succeeded", task
    assert client.get("/indexes/b").json()["primaryKey"] == "sku"
    assert client.get("/indexes/a/documents").json()["total"] == 1
    missing = run_task(client, "POST", "/swap-indexes", json=[{"indexes": ["a", "zz"]}])
    assert missing["error"]["code"] == "index_not_found"


def test_swapping_an_index_with_itself_and_unknown_routes(client: TestClient) -> None:
    r = client.post("/swap-indexes", json=[{"indexes": ["a", "a"]}])
    assert r.status_code == 400 and r.json()["code"] == "invalid_swap_duplicate_index_found"
    missing = client.post("/indexes/indexes/x/documents/fetch", json={})
    assert missing.status_code == 404 and missing.content == b""  # as Meilisearch
    assert client.get("/indexes/nope").json()["code"] == "index_not_found"
