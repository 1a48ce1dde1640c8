import orjson
from fastapi.testclient import TestClient

from tests.conftest import run_task, wait_task


def test_task_filters_and_paging(client: TestClient) -> None:
    for uid in ("a", "b", "c"):
        run_task(client, "POST", "/indexes", json={"uid": uid})
    run_task(client, "POST", "/indexes", json={"uid": "a"})  # fails: already exists

    page = client.get("/tasks", params={"limit": 2}).json()
    assert page["total"] == 4 and len(page["results"]) == 2
    assert page["results"][0]["uid"] > page["results"][1]["uid"]
    rest = client.get("/tasks", params={"limit": 2, "from": page["next"]}).json()
    assert rest["next"] is None and len(rest["results"]) == 2

    failed = client.get("/tasks", params={"statuses": "failed"}).json()
    assert [t["indexUid"] for t in failed["results"]] == ["a"]
    by_index = client.get("/tasks", params={"indexUids": "b,c"}).json()
    assert by_index["total"] == 2
    typed = client.get("/tasks", params={"types": "indexCreation", "uids": "1,2"}).json()
    assert typed["total"] == 2
    future = client.get("/tasks", params={"afterEnqueuedAt": "2999-01-01"}).json()
    assert future["total"] == 0
    reverse = client.get("/tasks", params={"reverse": "true"}).json()
    assert reverse["results"][0]["uid"] < reverse["results"][-1]["uid"]


def test_task_parameter_errors(client: TestClient) -> None:
    assert (
        client.get("/tasks", params={"statuses": "nope"}).json()["code"] == "invalid_task_statuses"
    )
    assert client.get("/tasks", params={"types": "nope"}).json()["code"] == "invalid_task_types"
    assert client.get("/tasks", params={"uids": "x"}).json()["code"] == "invalid_task_uids"
    assert (
        client.get("/tasks", params={"beforeEnqueuedAt": "yesterday"}).json()["code"]
        == "invalid_task_before_enqueued_at"
    )
    assert client.get("/tasks", params={"colour": "red"}).json()["code"] == "bad_request"
    assert client.get("/tasks/12345").status_code == 404
    assert client.post("/tasks/cancel").json()["code"] == "missing_task_filters"


def test_delete_finished_tasks(client: TestClient) -> None:
    run_task(client, "POST", "/indexes", json={"uid": "a"})
    deletion = run_task(client, "DELETE", "/tasks?statuses=succeeded")
    assert deletion["type"] == "taskDeletion"
    assert deletion["details"]["deletedTasks"] >= 1
    assert client.get("/tasks/1").status_code == 404


def test_cancel_enqueued_tasks(client: TestClient) -> None:
    services = client.app.state.services
    services.worker.stop()  # hold the queue so tasks stay enqueued
    first = client.post("/indexes", json={"uid": "a"}).json()["taskUid"]
    cancel = client.post(f"/tasks/cancel?uids={first}").json()["taskUid"]
    services.worker.start()
    assert wait_task(client, cancel)["details"]["canceledTasks"] == 1
    canceled = wait_task(client, first)
    assert canceled["status"] == "canceled" and canceled["canceledBy"] == cancel
    assert client.get("/indexes/a").status_code == 404


def test_a_star_date_is_no_bound_and_newer_types_are_valid(client: TestClient) -> None:
    run_task(client, "POST", "/indexes", json={"uid": "star"})
    everything = client.get("/tasks").json()["total"]
    assert client.get("/tasks?afterEnqueuedAt=*&beforeFinishedAt=*").json()["total"] == everything
    assert client.get("/batches?afterStartedAt=*").status_code == 200
    listed = client.get("/tasks?types=networkTopologyChange,dsrUpdate,dsrClear")
    assert listed.status_code == 200 and listed.json()["results"] == []


def test_finished_batches_carry_their_progress_trace(client: TestClient) -> None:
    task = run_task(client, "POST", "/indexes/tr/documents", json=[{"id": 1}, {"id": 2}])
    batch = client.get(f"/batches/{task['batchUid']}").json()
    trace = batch["stats"]["progressTrace"]
    assert list(trace)[:2] == ["indexing", "indexing > document"], trace
    assert all(v.endswith(("s", "ms", "µs")) for v in trace.values())
    listed = client.get("/batches").json()["results"]
    assert next(b for b in listed if b["uid"] == batch["uid"])["stats"]["progressTrace"] == trace
    dump = run_task(client, "POST", "/dumps")
    assert "writing the backup" in client.get(f"/batches/{dump['batchUid']}").json()["stats"][
        "progressTrace"]
    # Deleting the batch's tasks removes its trace row too (checked through a fresh batch).
    run_task(client, "DELETE", f"/tasks?uids={task['uid']}")
    assert client.get(f"/batches/{task['batchUid']}").status_code == 404


def test_task_documents_are_served_until_the_task_is_applied(client: TestClient) -> None:
    services = client.app.state.services
    services.worker.stop()  # hold the queue so the task stays enqueued
    docs = [{"id": 1, "t": "é"}, {"id": 2}]
    uid = client.post("/indexes/td/documents", json=docs).json()["taskUid"]
    served = client.get(f"/tasks/{uid}/documents")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/x-ndjson")
    assert [orjson.loads(line) for line in served.content.splitlines()] == docs
    services.worker.start()
    wait_task(client, uid)
    gone = client.get(f"/tasks/{uid}/documents")
    assert gone.status_code == 404 and gone.json()["code"] == "task_file_not_found"
    assert client.get("/tasks/99999/documents").json()["code"] == "task_not_found"
