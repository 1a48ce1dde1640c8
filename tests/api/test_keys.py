from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import MASTER_KEY, make_client, run_task


def test_default_keys_exist_and_work(client: TestClient) -> None:
    keys = client.get("/keys").json()
    names = {k["name"]: k for k in keys["results"]}
    assert set(names) == {
        "Default Search API Key",
        "Default Admin API Key",
        "Default Read-Only Admin API Key",
    }
    assert names["Default Search API Key"]["actions"] == ["search"]
    search_key = names["Default Search API Key"]["key"]
    r = client.get("/indexes", headers={"Authorization": f"Bearer {search_key}"})
    assert r.status_code == 403 and r.json()["code"] == "invalid_api_key"
    admin = names["Default Admin API Key"]["key"]
    assert client.get("/indexes", headers={"Authorization": f"Bearer {admin}"}).status_code == 200


def test_read_only_admin_key_reads_everything_and_writes_nothing(client: TestClient) -> None:
    keys = client.get("/keys").json()["results"]
    (reader,) = [k for k in keys if k["name"] == "Default Read-Only Admin API Key"]
    assert reader["actions"] == ["*.get", "keys.get"]
    auth = {"Authorization": f"Bearer {reader['key']}"}
    assert client.get("/indexes", headers=auth).status_code == 200
    assert client.get("/keys", headers=auth).status_code == 200
    assert client.get("/tasks", headers=auth).status_code == 200
    r = client.post("/indexes", json={"uid": "nope"}, headers=auth)
    assert r.status_code == 403 and r.json()["code"] == "invalid_api_key"


def test_auth_errors(client: TestClient) -> None:
    r = client.get("/indexes", headers={"Authorization": ""})
    assert r.status_code == 401 and r.json()["code"] == "missing_authorization_header"
    r = client.get("/indexes", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403 and r.json()["code"] == "invalid_api_key"
    assert client.get("/health", headers={"Authorization": ""}).status_code == 200


def test_key_lifecycle_actions_and_index_patterns(client: TestClient) -> None:
    run_task(client, "POST", "/indexes", json={"uid": "movies_fr"})
    run_task(client, "POST", "/indexes", json={"uid": "books"})
    created = client.post(
        "/keys",
        json={
            "name": "reader",
            "actions": ["documents.get", "indexes.*"],
            "indexes": ["movies*"],
            "expiresAt": None,
        },
    )
    assert created.status_code == 201, created.text
    key = created.json()
    auth = {"Authorization": f"Bearer {key['key']}"}
    assert client.get("/indexes/movies_fr/documents", headers=auth).status_code == 200
    assert client.get("/indexes/books/documents", headers=auth).status_code == 403
    listed = client.get("/indexes", headers=auth).json()
    assert [i["uid"] for i in listed["results"]] == ["movies_fr"]
    assert client.get("/tasks", headers=auth).status_code == 403

    patched = client.patch(f"/keys/{key['uid']}", json={"name": "renamed"})
    assert patched.json()["name"] == "renamed"
    immutable = client.patch(f"/keys/{key['key']}", json={"actions": ["*"]})
    assert immutable.json()["code"] == "immutable_api_key_actions"
    assert client.delete(f"/keys/{key['uid']}").status_code == 204
    assert client.get("/indexes/movies_fr", headers=auth).status_code == 403
    assert client.get(f"/keys/{key['uid']}").json()["code"] == "api_key_not_found"


def test_key_validation(client: TestClient) -> None:
    base = {"actions": ["search"], "indexes": ["*"], "expiresAt": None}
    assert (
        client.post("/keys", json={**base, "actions": ["fly"]}).json()["code"]
        == "invalid_api_key_actions"
    )
    assert (
        client.post("/keys", json={**base, "expiresAt": "2001-01-01"}).json()["code"]
        == "invalid_api_key_expires_at"
    )
    missing = {"indexes": ["*"], "expiresAt": None}
    assert client.post("/keys", json=missing).json()["code"] == "missing_api_key_actions"
    uid = "01b4bc42-eb33-4041-b481-254d00cce834"
    assert client.post("/keys", json={**base, "uid": uid}).status_code == 201
    assert client.post("/keys", json={**base, "uid": uid}).status_code == 409


def test_open_instance_has_no_keys_routes(tmp_path: Path) -> None:
    with make_client(tmp_path) as c:
        assert c.get("/indexes").status_code == 200
        r = c.get("/keys")
        assert r.status_code == 401 and r.json()["code"] == "missing_master_key"


def test_keys_survive_restart_with_same_values(tmp_path: Path) -> None:
    with make_client(tmp_path, master_key=MASTER_KEY) as c:
        c.headers["Authorization"] = f"Bearer {MASTER_KEY}"
        before = {k["uid"]: k["key"] for k in c.get("/keys").json()["results"]}
    with make_client(tmp_path, master_key=MASTER_KEY) as c:
        c.headers["Authorization"] = f"Bearer {MASTER_KEY}"
        after = {k["uid"]: k["key"] for k in c.get("/keys").json()["results"]}
    assert before == after


def test_key_expiry_is_shown_as_meilisearch_writes_it(client: TestClient) -> None:
    key = client.post(
        "/keys", json={"actions": ["search"], "indexes": ["*"], "expiresAt": "2050-11-13T00:00:00Z"}
    ).json()
    assert key["expiresAt"] == "2050-11-13T00:00:00Z"
