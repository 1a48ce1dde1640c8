"""/network: behind the `network` feature, validated as Meilisearch documents it, stored."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from sift.cluster.origin import Origin
from sift.engine.partition import Partition
from sift.http.schemas import requests, responses
from sift.storage import outbox as outbox_rows
from tests.conftest import MASTER_KEY, make_client, run_task, wait_task

THREE = {
    "self": "ms-00",
    "leader": "ms-00",
    "remotes": {
        "ms-00": {"url": "http://127.0.0.1:7700", "searchApiKey": "s0", "writeApiKey": "w0"},
        "ms-01": {"url": "http://127.0.0.1:7701", "searchApiKey": "s1"},
        "ms-02": {"url": "http://127.0.0.1:7702"},
    },
    "shards": {
        "shard-a": {"remotes": ["ms-00", "ms-01"]},
        "shard-b": {"remotes": ["ms-01", "ms-02"]},
        "shard-c": {"remotes": ["ms-02", "ms-00"]},
    },
}


def enable(client: TestClient) -> None:
    answer = client.patch("/experimental-features", json={"network": True})
    assert answer.status_code == 200 and answer.json()["network"] is True


def patch(client: TestClient, body: Any) -> Any:
    return client.patch("/network", json=body)


def changed(client: TestClient, body: Any) -> dict[str, Any]:
    """PATCH /network and the network it leaves (GET /network), for tests not about the
    answer: the network itself without a leader, a task's summary with one."""
    answer = patch(client, body)
    assert answer.status_code in (200, 202), answer.text
    return client.get("/network").json()


def test_network_needs_the_experimental_feature(client: TestClient) -> None:
    assert client.get("/experimental-features").json()["network"] is False
    off = client.get("/network")
    assert off.status_code == 400 and off.json()["code"] == "feature_not_enabled"
    assert patch(client, {"self": "a"}).json()["code"] == "feature_not_enabled"
    enable(client)
    fresh = client.get("/network").json()
    assert fresh == {
        "self": None, "leader": None, "remotes": {}, "shards": {}, "version": fresh["version"],
    }
    assert str(uuid.UUID(fresh["version"])) == fresh["version"]  # a network has one at once
    # and it can be turned off again
    off = client.patch("/experimental-features", json={"network": False})
    assert off.json()["network"] is False
    assert client.get("/network").status_code == 400


def test_patch_stores_the_topology_and_get_shows_it(client: TestClient) -> None:
    enable(client)
    answer = patch(client, THREE)
    # With a leader, Meilisearch answers the networkTopologyChange task the change
    # enqueued; GET /network shows the change at once.
    assert answer.status_code == 202, answer.text
    summary = answer.json()
    assert summary["type"] == "networkTopologyChange" and summary["indexUid"] is None
    body = client.get("/network").json()
    assert body["self"] == "ms-00" and body["leader"] == "ms-00"
    assert body["remotes"]["ms-01"]["status"] in ("available", "unavailable")
    assert without_status(body)["remotes"]["ms-01"] == {
        "url": "http://127.0.0.1:7701", "searchApiKey": "s1", "writeApiKey": None,
    }
    assert body["shards"]["shard-b"] == {"remotes": ["ms-01", "ms-02"]}
    task = wait_task(client, summary["taskUid"])
    assert task["status"] == "succeeded" and task["details"]["movedDocuments"] == 0
    # Meanwhile the leader sends its network to ms-01 and ms-02, which may be marked
    # unavailable (nothing listens there): the stored topology is what is compared.
    assert without_status(client.get("/network").json()) == without_status(body)


def test_without_a_leader_the_answer_is_the_network(client: TestClient) -> None:
    enable(client)
    alone = {"self": "ms-00", "remotes": {"ms-00": {"url": "http://127.0.0.1:7700"}}}
    answer = patch(client, alone)
    assert answer.status_code == 200, answer.text
    assert without_status(answer.json()) == without_status(client.get("/network").json())
    assert client.get("/tasks?types=networkTopologyChange").json()["results"] == []
    # A change of a network with a leader enqueues a task every time, moving nothing
    # included; clearing the leader answers the network again.
    led = {"leader": "ms-00", "shards": {"s": {"remotes": ["ms-00"]}}}
    tasks = [patch(client, led), patch(client, {"remotes": {"ms-00": {"searchApiKey": "k"}}}),
             patch(client, {"self": "ms-00"})]
    assert [t.status_code for t in tasks] == [202, 202, 202]
    for task in tasks:
        done = wait_task(client, task.json()["taskUid"])
        assert done["status"] == "succeeded" and done["details"] == {"movedDocuments": 0}
    cleared = patch(client, {"leader": None})
    assert cleared.status_code == 200 and cleared.json()["leader"] is None


def without_status(view: dict[str, Any]) -> dict[str, Any]:
    remotes = {name: {k: v for k, v in remote.items() if k != "status"}
               for name, remote in view["remotes"].items()}  # fmt: skip
    return {**view, "remotes": remotes}


def test_the_topology_survives_a_restart(tmp_path: Path) -> None:
    with make_client(tmp_path, master_key=MASTER_KEY) as c:
        c.headers["Authorization"] = f"Bearer {MASTER_KEY}"
        enable(c)
        assert patch(c, THREE).status_code == 202
    with make_client(tmp_path, master_key=MASTER_KEY) as c:
        c.headers["Authorization"] = f"Bearer {MASTER_KEY}"
        body = c.get("/network").json()
        assert body["self"] == "ms-00"
        assert sorted(body["shards"]) == ["shard-a", "shard-b", "shard-c"]


def test_each_change_of_the_network_draws_a_new_version(tmp_path: Path) -> None:
    """Meilisearch's `version`: a UUID that a change replaces; a PATCH changing nothing
    keeps it, a client cannot set it, and it survives a restart."""
    with make_client(tmp_path, master_key=MASTER_KEY) as c:
        c.headers["Authorization"] = f"Bearer {MASTER_KEY}"
        enable(c)
        first = c.get("/network").json()["version"]
        drawn = changed(c, THREE)["version"]
        assert drawn != first and str(uuid.UUID(drawn)) == drawn
        assert changed(c, {"self": "ms-00"})["version"] == drawn  # nothing changed
        again = changed(c, {"remotes": {"ms-02": {"url": "http://127.0.0.1:7799"}}})
        assert again["version"] not in (first, drawn)
        refused = patch(c, {"version": str(uuid.uuid4())})
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_network_version"
    with make_client(tmp_path, master_key=MASTER_KEY) as c:
        c.headers["Authorization"] = f"Bearer {MASTER_KEY}"
        assert c.get("/network").json()["version"] == again["version"]


def test_a_remote_takes_the_version_of_its_leaders_network(client: TestClient) -> None:
    enable(client)
    assert patch(client, {**THREE, "self": "ms-01"}).status_code == 202  # ms-00 leads
    leaders = str(uuid.uuid4())
    origin = Origin("ms-00", 7, "leader-database").headers()
    sent = client.patch("/network", json={**THREE, "self": "ms-01", "version": leaders},
                        headers=origin)  # fmt: skip
    assert sent.status_code == 200, sent.text
    assert sent.json()["version"] == client.get("/network").json()["version"] == leaders
    bad = client.patch("/network", json={**THREE, "self": "ms-01", "version": "v2"},
                       headers=Origin("ms-00", 8, "leader-database").headers())  # fmt: skip
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_network_version"


def test_add_and_remove_remotes_of_a_shard(client: TestClient) -> None:
    enable(client)
    patch(client, THREE)
    body = changed(client, {
        "remotes": {"ms-03": {"url": "http://127.0.0.1:7703"}},
        "shards": {"shard-a": {"addRemotes": ["ms-03"], "removeRemotes": ["ms-00"]}},
    })
    assert body["shards"]["shard-a"] == {"remotes": ["ms-01", "ms-03"]}
    assert body["shards"]["shard-c"] == {"remotes": ["ms-02", "ms-00"]}  # untouched
    # `remotes` replaces, then addRemotes appends, then removeRemotes takes away
    body = changed(client, {"shards": {"shard-b": {
        "remotes": ["ms-00"], "addRemotes": ["ms-02", "ms-00"], "removeRemotes": ["ms-00"],
    }}})
    assert body["shards"]["shard-b"] == {"remotes": ["ms-02"]}
    # a removed remote leaves every shard it owned
    body = changed(client, {"remotes": {"ms-03": None}})
    assert "ms-03" not in body["remotes"] and body["shards"]["shard-a"] == {"remotes": ["ms-01"]}
    # keys change one by one; the others stay
    body = changed(client, {"remotes": {"ms-00": {"searchApiKey": None}}})
    assert body["remotes"]["ms-00"]["searchApiKey"] is None
    assert body["remotes"]["ms-00"]["writeApiKey"] == "w0"


def test_invalid_bodies_get_meilisearch_codes(client: TestClient) -> None:
    enable(client)
    patch(client, THREE)
    cases = [
        ({"self": 3}, "invalid_network_self"),
        ({"remotes": []}, "invalid_network_remotes"),
        ({"remotes": {"x": {"searchApiKey": "k"}}}, "missing_network_url"),
        ({"remotes": {"x": {"url": 7}}}, "invalid_network_url"),
        ({"remotes": {"x": {"url": "ftp://x"}}}, "invalid_network_url"),
        ({"remotes": {"x": {"url": "http://x", "searchApiKey": 1}}},
         "invalid_network_search_api_key"),
        ({"shards": {"shard-a": {"remotes": ["nobody"]}}}, "invalid_network_shards"),
        ({"shards": {"shard-a": {"removeRemotes": ["ms-00", "ms-01"]}}}, "invalid_network_shards"),
        ({"shards": {"shard-a": {"remotes": "ms-00"}}}, "invalid_network_shards"),
        ({"shards": None}, "invalid_network_shards"),  # a leader needs shards
        ({"leader": "ghost"}, "invalid_network_leader"),
        ({"remotes": {"ms-01": None, "ms-02": None}}, "invalid_network_shards"),  # shard-b empty
        ({"selfie": "x"}, "bad_request"),
        ({"shards": {"shard-a": {"owners": []}}}, "bad_request"),
    ]
    for body, code in cases:
        answer = patch(client, body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["code"] == code, (body, answer.json())
    # nothing of the refused patches was kept
    assert client.get("/network").json()["shards"]["shard-a"] == {"remotes": ["ms-00", "ms-01"]}


def test_network_actions_guard_the_routes(client: TestClient) -> None:
    enable(client)
    key = client.post("/keys", json={
        "actions": ["network.get"], "indexes": ["*"], "expiresAt": None,
    }).json()["key"]
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/network", headers=headers).status_code == 200
    refused = client.patch("/network", json={"self": "x"}, headers=headers)
    assert refused.status_code == 403 and refused.json()["code"] == "invalid_api_key"


def test_a_node_named_by_setting_keeps_its_name(tmp_path: Path) -> None:
    with make_client(tmp_path, master_key=MASTER_KEY, network_self="ms-01") as c:
        c.headers["Authorization"] = f"Bearer {MASTER_KEY}"
        enable(c)
        body = changed(c, {k: v for k, v in THREE.items() if k != "self"})
        assert body["self"] == "ms-01"
        refused = patch(c, {"self": "ms-02"})  # ms-00 leads: only it changes the network
        assert refused.json()["code"] == "not_a_leader"
        refused = patch(c, {"self": "ms-02", "leader": "ms-00"})
        assert refused.json()["code"] == "invalid_network_self"


def test_a_node_holding_some_shards_still_filters_over_every_document(
    client: TestClient,
) -> None:
    from sift.engine.partition import Partition
    from tests.conftest import run_task

    run_task(client, "POST", "/indexes/books/documents",
             json=[{"id": i, "n": i} for i in range(60)])
    run_task(client, "PATCH", "/indexes/books/settings",
             json={"filterableAttributes": ["n"], "sortableAttributes": ["n"]})
    catalog = client.app.state.services.catalog  # type: ignore[attr-defined]
    part = Partition(("a", "b", "c"), frozenset({"a"}))
    catalog.set_partition(part)
    held = {i for i in range(60) if part.shard_of(str(i)) == "a"}
    assert catalog.get("books").document_count() == len(held) < 60
    listed = client.post("/indexes/books/documents/fetch",
                         json={"filter": "n >= 30", "sort": ["n:asc"], "limit": 100}).json()
    assert [d["n"] for d in listed["results"]] == list(range(30, 60))
    task = run_task(client, "POST", "/indexes/books/documents/delete", json={"filter": "n < 10"})
    assert task["details"]["deletedDocuments"] == 10
    assert client.get("/indexes/books/stats").json()["numberOfDocuments"] == 50


def test_a_federated_query_may_name_the_node_that_runs_it(client: TestClient) -> None:
    from tests.conftest import run_task

    run_task(client, "POST", "/indexes/books/documents", json=[{"id": 1, "title": "Dune"}])
    query = {"federation": {}, "queries": [
        {"indexUid": "books", "q": "dune", "federationOptions": {"remote": "ms-00"}},
    ]}
    off = client.post("/multi-search", json=query)
    assert off.status_code == 400 and off.json()["code"] == "feature_not_enabled"
    enable(client)
    patch(client, {"self": "ms-00", "remotes": {"ms-00": {"url": "http://127.0.0.1:1"}}})
    hits = client.post("/multi-search", json=query).json()["hits"]
    assert [(h["id"], h["_federation"]["remote"]) for h in hits] == [(1, "ms-00")]
    query["queries"][0]["federationOptions"] = {"remote": "ghost"}
    unknown = client.post("/multi-search", json=query)
    assert unknown.status_code == 400 and unknown.json()["code"] == "invalid_multi_search_remote"


def test_a_node_answers_its_corpus_statistics_for_a_query(client: TestClient) -> None:
    from tests.conftest import run_task

    run_task(client, "POST", "/indexes/books/documents", json=[
        {"id": 1, "title": "Dune", "body": "sand worms of the desert"},
        {"id": 2, "title": "Dune Messiah"},
        {"id": 3, "title": "Emma"},
    ])
    answer = client.post("/indexes/books/search/statistics",
                         json={"query": {"q": "dune desert"}, "shards": None})
    assert answer.status_code == 200, answer.text
    stats = answer.json()
    assert stats["documents"] == 3
    assert stats["fields"]["title"] == [4, 3] and stats["fields"]["body"] == [5, 1]
    # dune in 2 documents, desert in 1 (the first pair: without typo variants)
    assert [w[:2] for w in stats["words"]] == [[2, 2], [1, 1]]
    assert stats["terms"] == [[2, 1, 99], [1, 1, 99]]  # 2 and 1 occurrences, known
    filtered = client.post("/indexes/books/search/statistics",
                           json={"query": {"q": "dune", "filter": "id = 1"}})
    assert filtered.status_code == 400  # `id` is not filterable: the search's own error
    assert filtered.json()["code"] == "invalid_search_filter"
    for bad in ({"q": "dune"}, {"query": "dune"}, {"query": {}, "shards": "a"}):
        refused = client.post("/indexes/books/search/statistics", json=bad)
        assert refused.status_code == 400 and refused.json()["code"] == "bad_request", bad


def test_statistics_need_the_search_action(client: TestClient) -> None:
    key = client.post("/keys", json={
        "actions": ["documents.get"], "indexes": ["*"], "expiresAt": None,
    }).json()["key"]
    refused = client.post("/indexes/books/search/statistics", json={"query": {}},
                          headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 403 and refused.json()["code"] == "invalid_api_key"


def test_a_search_scores_with_the_statistics_it_is_sent(client: TestClient) -> None:
    from tests.conftest import run_task

    run_task(client, "POST", "/indexes/books/documents", json=[
        {"id": i, "title": "dune" if i < 2 else "emma"} for i in range(10)])

    def score(**extra: Any) -> Any:
        answer = client.post("/indexes/books/search",
                             json={"q": "dune", "showRankingScoreDetails": True, **extra})
        assert answer.status_code == 200, answer.text
        return answer.json()["hits"][0]["_rankingScoreDetails"]["relevance"]["bm25f"]

    own = client.post("/indexes/books/search/statistics", json={"query": {"q": "dune"}}).json()
    assert score(_corpusStatistics=own) == score()
    # As if nine other shards held 90 more documents without the word: it weighs more.
    wider = {**own, "documents": 100, "fields": {"title": [100, 100]}}
    assert score(_corpusStatistics=wider) > score()
    bad = client.post("/indexes/books/search", json={"q": "dune", "_corpusStatistics": {}})
    assert bad.status_code == 400 and bad.json()["code"] == "bad_request"


def test_a_forwarded_write_is_enqueued_once_and_shows_its_origin(client: TestClient) -> None:
    origin = Origin("ms-00", 9, "another-database").headers()
    docs = [{"id": 1, "title": "river"}, {"id": 2, "title": "stone"}]
    first = client.post("/indexes/books/documents", json=docs, headers=origin)
    again = client.post("/indexes/books/documents", json=docs[:1], headers=origin)
    assert first.status_code == again.status_code == 202
    assert again.json()["taskUid"] == first.json()["taskUid"]
    done = client.get(f"/tasks/{first.json()['taskUid']}").json()
    assert done["network"] == {"origin": {"remoteName": "ms-00", "taskUid": 9}}
    assert client.get("/tasks").json()["total"] == 1
    # The leader names the network version it routed the write under.
    version = str(uuid.uuid4())
    routed = Origin("ms-00", 10, "another-database", network_version=version).headers()
    taken = client.post("/indexes/books/documents", json=docs, headers=routed)
    assert client.get(f"/tasks/{taken.json()['taskUid']}").json()["network"] == {
        "origin": {"remoteName": "ms-00", "taskUid": 10, "networkVersion": version}}
    # Documents a topology change moved here: Meilisearch's import variant.
    moved = Origin("ms-00", 11, "another-database", network_version=version,
                   network_change=True).headers()  # fmt: skip
    imported = client.post("/indexes/books/documents", json=docs, headers=moved)
    assert wait_task(client, imported.json()["taskUid"])["network"] == {
        "networkChange": {"remoteName": "ms-00", "taskUid": 11, "networkVersion": version},
        "importFrom": {"remoteName": "ms-00", "indexName": "books", "documentCount": 2}}
    bad = {**routed, "X-Sift-Origin-Network-Version": "latest"}
    refused = client.post("/indexes/books/documents", json=docs, headers=bad)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_network_version"
    # The same task uid from another leader's database is another write.
    other = client.delete("/indexes/books/documents/1",
                          headers=Origin("ms-00", 9, "third-database").headers())
    assert other.status_code == 202 and other.json()["taskUid"] != first.json()["taskUid"]


def test_a_forwarded_write_needs_all_of_its_origin(client: TestClient) -> None:
    partial = {"X-Sift-Origin-Remote": "ms-00", "X-Sift-Origin-Task": "nine"}
    answer = client.post("/indexes/books/documents", json=[{"id": 1}], headers=partial)
    assert answer.status_code == 400 and answer.json()["code"] == "bad_request"
    assert client.get("/tasks").json()["total"] == 0


def test_with_a_leader_another_node_refuses_writes_unless_forwarded(client: TestClient) -> None:
    enable(client)
    assert patch(client, {**THREE, "self": "ms-01"}).status_code == 202  # ms-00 leads
    writes = [("POST", "/indexes", {"uid": "books"}),
              ("POST", "/indexes/books/documents", [{"id": 1}]),
              ("PUT", "/indexes/books/documents", [{"id": 1}]),
              ("POST", "/indexes/books/documents/delete-batch", [1]),
              ("PATCH", "/indexes/books/settings", {"sortableAttributes": ["id"]}),
              ("PATCH", "/indexes/books", {"primaryKey": "id"}),
              ("DELETE", "/indexes/books", None),
              ("POST", "/swap-indexes", [{"indexes": ["books", "shelf"]}])]  # fmt: skip
    for method, path, body in writes:
        refused = client.request(method, path, json=body)
        assert refused.status_code == 400, (method, path, refused.text)
        assert refused.json()["code"] == "not_a_leader"
        assert "`ms-00`" in refused.json()["message"]
    # Only the change of the network's own task (it names a leader, so it is one).
    assert [t["type"] for t in client.get("/tasks").json()["results"]] == [
        "networkTopologyChange"]
    # Reads, and the node's own affairs (its keys), are not the leader's; its topology is.
    assert client.get("/indexes").status_code == 200
    refused = patch(client, {"shards": {"shard-a": {"remotes": ["ms-01"]}}})
    assert refused.status_code == 400 and refused.json()["code"] == "not_a_leader"
    # The leader's forward is taken.
    origin = Origin("ms-00", 1, "leader-database").headers()
    taken = client.post("/indexes", json={"uid": "books"}, headers=origin)
    assert taken.status_code == 202, taken.text
    swap = client.post("/swap-indexes", json=[{"indexes": ["books", "shelf"]}],
                       headers=Origin("ms-00", 2, "leader-database").headers())
    assert swap.status_code == 202, swap.text
    # Once the leader is unset (or the feature off), every node takes writes again.
    assert patch(client, {"leader": None}).status_code == 200
    assert client.post("/indexes/books/documents", json=[{"id": 1}]).status_code == 202
    assert patch(client, {"leader": "ms-00"}).status_code == 202
    assert client.patch("/experimental-features", json={"network": False}).is_success
    assert client.post("/indexes/books/documents", json=[{"id": 2}]).status_code == 202


def test_the_leader_owes_every_remote_its_network(client: TestClient) -> None:
    # What is owed, not what the sender does with it: it would drop ms-02's write once
    # ms-02 leaves the network, racing the read below.
    client.app.state.services.outbox.stop()  # type: ignore[attr-defined]
    enable(client)
    assert patch(client, THREE).status_code == 202  # this node, ms-00, leads
    assert patch(client, {"remotes": {"ms-02": None}}).status_code == 202
    with client.app.state.services.db.read() as conn:  # type: ignore[attr-defined]
        rows = outbox_rows.all_rows(conn)
    # The networks, numbered by the row's revision, negated (the change's tasks owe the
    # remotes their ends, cluster/control.py, numbered by the task).
    owed = sorted(((r.remote, r.task_uid, r.body) for r in rows if r.task_uid < 0),
                  key=lambda row: -row[1])  # fmt: skip
    # Each change, in order, for each remote of the network after it, and for the remote
    # it removed.
    assert [(remote, uid) for remote, uid, _ in owed] == [
        ("ms-01", -1), ("ms-02", -1), ("ms-01", -2), ("ms-02", -2)]  # fmt: skip
    assert [body["self"] for _, _, body in owed] == ["ms-01", "ms-02", "ms-01", "ms-02"]
    # The network sent names the version every member takes: the leader's, now.
    assert owed[2][2]["version"] == client.get("/network").json()["version"]
    assert owed[0][2]["version"] not in (None, owed[2][2]["version"])
    assert owed[2][2]["leader"] == "ms-00" and set(owed[2][2]["remotes"]) == {"ms-00", "ms-01"}
    # The removed remote's network becomes itself alone: no leader, no shards (and it
    # draws a version of its own).
    assert owed[3][2] == {"self": "ms-02", "leader": None, "shards": {},
                          "remotes": {"ms-02": {"url": "http://127.0.0.1:7702",
                                                "searchApiKey": None, "writeApiKey": None}}}
    # Setting up the sharded network and removing a remote each move documents (none
    # here: there is no index yet).
    changes = client.get("/tasks").json()["results"]
    assert [t["type"] for t in changes] == ["networkTopologyChange"] * 2


def test_the_leaders_network_replaces_a_remotes_own(client: TestClient) -> None:
    enable(client)
    assert patch(client, {**THREE, "self": "ms-01"}).status_code == 202  # ms-00 leads
    sent = {**THREE, "self": "ms-01", "remotes": {
        "ms-00": THREE["remotes"]["ms-00"], "ms-01": THREE["remotes"]["ms-01"]},
        "shards": {"shard-a": {"remotes": ["ms-00", "ms-01"]}}}  # fmt: skip
    origin = Origin("ms-00", 4, "leader-database").headers()
    answer = client.patch("/network", json=sent, headers=origin)
    assert answer.status_code == 200, answer.text
    network = client.get("/network").json()
    assert network["self"] == "ms-01" and set(network["remotes"]) == {"ms-00", "ms-01"}
    assert network["shards"] == {"shard-a": {"remotes": ["ms-00", "ms-01"]}}
    # A node on the leader's own database has the change already: it stores nothing.
    database = client.app.state.services.network.database_id  # type: ignore[attr-defined]
    same = client.patch("/network", json={**sent, "self": "ms-00"},
                        headers=Origin("ms-00", 5, database).headers())  # fmt: skip
    assert same.json() == {"taskUid": None, "sameDatabase": True}
    assert client.get("/network").json()["self"] == "ms-01"
    # Naming a leader is taken from anyone (a network whose leader is gone for good).
    assert patch(client, {"leader": "ms-01"}).status_code == 202
    assert patch(client, {"shards": {"shard-a": {"remotes": ["ms-01"]}}}).status_code == 202


def test_the_leader_itself_takes_writes(client: TestClient) -> None:
    enable(client)
    assert patch(client, THREE).status_code == 202
    assert client.post("/indexes", json={"uid": "books"}).status_code == 202


def _key(client: TestClient, actions: list[str]) -> str:
    answer = client.post("/keys", json={"actions": actions, "indexes": ["*"], "expiresAt": None})
    assert answer.status_code == 201, answer.text
    return answer.json()["key"]


def test_a_forwarded_write_needs_the_key_the_leader_writes_with(client: TestClient) -> None:
    """Origin headers count only with the master key or this node's `writeApiKey`: a
    client's key, even one allowed the write, cannot pass its writes off as the
    leader's (to get past `not_a_leader`, or to make the leader's real write look like
    a repeat)."""
    actions = ["documents.add", "indexes.create", "network.update", "network.get"]
    client_key, leader_key, rotated = (_key(client, actions) for _ in range(3))
    enable(client)
    mine = {**THREE["remotes"]["ms-01"], "writeApiKey": leader_key}
    network = {**THREE, "self": "ms-01", "remotes": {**THREE["remotes"], "ms-01": mine}}
    assert patch(client, network).status_code == 202  # ms-00 leads
    docs = [{"id": 1, "title": "river"}]

    def write(key: str, task: int) -> Any:
        headers = {"Authorization": f"Bearer {key}",
                   **Origin("ms-00", task, "leader-database").headers()}  # fmt: skip
        return client.post("/indexes/books/documents", json=docs, headers=headers)

    forged = write(client_key, 1)
    assert forged.status_code == 403 and forged.json()["code"] == "invalid_forwarded_write"
    assert forged.json()["type"] == "auth"
    # Without the headers the same key is simply not the leader.
    plain = client.post("/indexes/books/documents", json=docs,
                        headers={"Authorization": f"Bearer {client_key}"})  # fmt: skip
    assert plain.json()["code"] == "not_a_leader"
    additions = {"types": "documentAdditionOrUpdate"}
    assert client.get("/tasks", params=additions).json()["total"] == 0
    # The leader's key is taken, and so is the master key; the forged task 1 did not
    # take the place of the leader's task 1 (a new task, not the forged one's).
    assert write(leader_key, 1).status_code == 202
    assert write(MASTER_KEY, 2).status_code == 202
    assert client.get("/tasks", params=additions).json()["total"] == 2
    # A new network from the leader naming a new key for this node is taken with it,
    # and from then on only the new key counts.
    moved = {**network, "remotes": {**network["remotes"],
                                    "ms-01": {**mine, "writeApiKey": rotated}}}  # fmt: skip
    sent = client.patch("/network", json=moved, headers={
        "Authorization": f"Bearer {rotated}", **Origin("ms-00", 3, "leader-database").headers()})
    assert sent.status_code == 200, sent.text
    refused = client.patch("/network", json=moved, headers={
        "Authorization": f"Bearer {client_key}",
        **Origin("ms-00", 4, "leader-database").headers()})  # fmt: skip
    assert refused.status_code == 403 and refused.json()["code"] == "invalid_forwarded_write"
    assert write(leader_key, 5).status_code == 403
    assert write(rotated, 5).status_code == 202


def test_without_a_master_key_forwarded_writes_need_no_key(tmp_path: Path) -> None:
    with make_client(tmp_path) as open_node:
        answer = open_node.post("/indexes/books/documents", json=[{"id": 1}],
                                headers=Origin("ms-00", 1, "leader-database").headers())
        assert answer.status_code == 202, answer.text


def _owed(client: TestClient, task_uid: int) -> dict[str, list[tuple[str, str, Any]]]:
    """Each remote's requests the leader's task ``task_uid`` owes, in order."""
    with client.app.state.services.db.read() as conn:  # type: ignore[attr-defined]
        rows = outbox_rows.all_rows(conn)
    owed: dict[str, list[tuple[str, str, Any]]] = {}
    for row in rows:
        if row.task_uid == task_uid:
            owed.setdefault(row.remote, []).append((row.method, row.path, row.body))
    return owed


def test_a_topology_change_sends_each_remote_what_it_gains_and_loses(
    client: TestClient,
) -> None:
    """Meilisearch's `networkTopologyChange`: the leader, holding every document in its
    database, owes each remote with a database of its own the documents it now owns
    (with the index and its settings when it had none of it) and the deletion of those
    it no longer owns, through the outbox."""
    client.app.state.services.outbox.stop()  # type: ignore[attr-defined]
    settings = {"filterableAttributes": ["n"]}
    run_task(client, "PATCH", "/indexes/books/settings", json=settings)
    docs = [{"id": i, "n": i % 7} for i in range(300)]
    run_task(client, "POST", "/indexes/books/documents", json=docs)
    enable(client)
    assert patch(client, THREE).status_code == 202  # ms-00 leads: sharding begins
    tasks = client.get("/tasks", params={"types": "networkTopologyChange"}).json()["results"]
    assert len(tasks) == 1 and tasks[0]["indexUid"] is None
    first = wait_task(client, tasks[0]["uid"])
    assert first["status"] == "succeeded", first
    partition = Partition(tuple(THREE["shards"]))
    shard = {i: partition.shard_of(str(i)) for i in range(300)}
    owners = {name: tuple(s["remotes"]) for name, s in THREE["shards"].items()}
    # Every document has an owner other than the leader: each one moved.
    assert first["details"] == {"movedDocuments": 300}
    version = client.get("/network").json()["version"]
    assert first["network"] == {"remoteTasks": {
        r: {"taskUid": None, "error": None} for r in ("ms-01", "ms-02")},
        "networkVersion": version}  # fmt: skip
    owed = _owed(client, first["uid"])
    for remote in ("ms-01", "ms-02"):
        # Each share ends with the control message telling the remote it is complete.
        *owed[remote], end = owed[remote]
        assert end == ("POST", "/network/control", {
            "origin": {"remoteName": "ms-00", "taskUid": first["uid"], "networkVersion": version},
            "message": {"type": "exportNoIndexForRemote", "remote": "ms-00"}})  # fmt: skip
        creation, settings_sent, *additions = owed[remote]
        assert creation == ("POST", "/indexes", {"uid": "books", "primaryKey": "id"})
        assert settings_sent == ("PATCH", "/indexes/books/settings", settings)
        assert {m for m, p, _ in additions} == {"POST"}
        assert {p for _, p, _ in additions} == {"/indexes/books/documents?primaryKey=id"}
        got = sorted(d["id"] for _, _, body in additions for d in body)
        assert got == [i for i in range(300) if remote in owners[shard[i]]], remote
        assert all(d == docs[d["id"]] for _, _, body in additions for d in body)
    # shard-c moves from ms-02 to ms-01: ms-01 gains its documents, ms-02 deletes them.
    moved = patch(client, {"shards": {"shard-c": {"remotes": ["ms-00", "ms-01"]}}})
    assert moved.status_code == 202, moved.text
    second = wait_task(client, moved.json()["taskUid"])
    in_c = [i for i in range(300) if shard[i] == "shard-c"]
    assert second["details"] == {"movedDocuments": len(in_c)}
    owed = _owed(client, second["uid"])
    assert client.get("/network").json()["version"] not in (version, None)  # a new one
    assert [(m, p) for m, p, _ in owed["ms-01"]] == [
        ("POST", "/indexes/books/documents?primaryKey=id"),  # the index is there already
        ("POST", "/network/control")]  # fmt: skip
    assert sorted(d["id"] for d in owed["ms-01"][0][2]) == in_c
    [(method, path, gone), _end] = owed["ms-02"]
    assert (method, path) == ("POST", "/indexes/books/documents/delete-batch")
    assert sorted(gone, key=int) == [str(i) for i in in_c]
    # A change that moves no document (a remote's url) is a task too, as in Meilisearch:
    # it reads no document and owes each remote only the end of its share.
    url = patch(client, {"remotes": {"ms-02": {"url": "http://127.0.0.1:7712"}}})
    assert url.status_code == 202, url.text
    third = wait_task(client, url.json()["taskUid"])
    assert third["status"] == "succeeded" and third["details"] == {"movedDocuments": 0}
    owed = _owed(client, third["uid"])
    assert {r: [(m, p) for m, p, _ in sent] for r, sent in owed.items()} == {
        r: [("POST", "/network/control")] for r in ("ms-01", "ms-02")}


def test_a_canceled_topology_change_leaves_the_network_changed(client: TestClient) -> None:
    """Meilisearch's documentation describes no revert: the network stays as changed and
    nothing of the canceled task is owed; changing the shards back and forth again
    sends the documents (docs/deployment.md)."""
    services = client.app.state.services  # type: ignore[attr-defined]
    services.outbox.stop()
    run_task(client, "POST", "/indexes/books/documents", json=[{"id": i} for i in range(90)])
    enable(client)
    first = patch(client, THREE)
    assert wait_task(client, first.json()["taskUid"])["status"] == "succeeded"
    moved = {"shards": {"shard-c": {"remotes": ["ms-00", "ms-01"]}}}
    services.worker.stop()
    try:
        change = patch(client, moved).json()["taskUid"]
        cancel = client.post("/tasks/cancel", params={"types": "networkTopologyChange"})
        assert cancel.status_code == 202, cancel.text
    finally:
        services.worker.start()
    assert wait_task(client, cancel.json()["taskUid"])["status"] == "succeeded"
    assert wait_task(client, change)["status"] == "canceled"
    assert client.get("/network").json()["shards"]["shard-c"] == {"remotes": ["ms-00", "ms-01"]}
    assert _owed(client, change) == {}
    # The repair: back to the shards the remotes hold, then to the new ones again.
    back = patch(client, {"shards": {"shard-c": {"remotes": ["ms-02", "ms-00"]}}})
    assert wait_task(client, back.json()["taskUid"])["status"] == "succeeded"
    again = wait_task(client, patch(client, moved).json()["taskUid"])
    partition = Partition(tuple(THREE["shards"]))
    in_c = [i for i in range(90) if partition.shard_of(str(i)) == "shard-c"]
    additions = "/indexes/books/documents?primaryKey=id"
    sent = [d["id"] for _, path, body in _owed(client, again["uid"])["ms-01"]
            if path == additions for d in body]  # fmt: skip
    assert sorted(sent) == in_c and again["details"]["movedDocuments"] == len(in_c)


def test_a_topology_change_owes_nothing_to_nodes_on_the_leaders_database(
    tmp_path: Path,
) -> None:
    """ms-01 ran on the leader's database (by its `network_self`): it rebuilds its shards
    from the database, so the leader's topology change sends it no document."""
    with make_client(tmp_path, master_key=MASTER_KEY, network_self="ms-01"):
        pass  # ms-01 started once on this database
    with make_client(tmp_path, master_key=MASTER_KEY, network_self="ms-00") as leader:
        leader.headers["Authorization"] = f"Bearer {MASTER_KEY}"
        leader.app.state.services.outbox.stop()  # type: ignore[attr-defined]
        run_task(leader, "POST", "/indexes/books/documents",
                 json=[{"id": i} for i in range(100)])  # fmt: skip
        enable(leader)
        assert patch(leader, {k: v for k, v in THREE.items() if k != "self"}).is_success
        tasks = leader.get("/tasks", params={"types": "networkTopologyChange"}).json()
        task = wait_task(leader, tasks["results"][0]["uid"])
        owed = _owed(leader, task["uid"])
        assert set(owed) == {"ms-02"}  # with its own database, as far as the leader knows
        in_b_or_c = task["details"]["movedDocuments"]
        assert 0 < in_b_or_c < 100  # shard-a's documents are on ms-00 and ms-01 only


def _control(version: str | None, remote: str = "ms-00", task: int = 12) -> dict[str, Any]:
    origin: dict[str, Any] = {"remoteName": "ms-00", "taskUid": task}
    if version is not None:
        origin["networkVersion"] = version
    return {"origin": origin, "message": {"type": "exportNoIndexForRemote", "remote": remote}}


def test_network_control_ends_a_change_with_a_task_of_this_node(client: TestClient) -> None:
    """`exportNoIndexForRemote` from the leader: this node enqueues its own
    `networkTopologyChange`, behind the change's writes, naming the leader's task and
    the network's version; the leader's resend gets the same task."""
    assert client.post("/network/control", json=_control(None)).json()["code"] == (
        "feature_not_enabled")
    enable(client)
    assert patch(client, {**THREE, "self": "ms-01"}).status_code == 202  # ms-00 leads
    version = client.get("/network").json()["version"]
    origin = Origin("ms-00", 12, "leader-database", part=40, network_version=version)
    sent = client.post("/network/control", json=_control(version), headers=origin.headers())
    assert sent.status_code == 202, sent.text
    # The OpenAPI document tells the truth about the body and both answers.
    TypeAdapter(requests.NetworkControl).validate_python(_control(version))
    TypeAdapter(responses.TaskSummary).validate_python(sent.json())
    TypeAdapter(responses.Network).validate_python(client.get("/network").json())
    TypeAdapter(requests.NetworkUpdate).validate_python({**THREE, "version": version})
    assert sent.json()["type"] == "networkTopologyChange" and sent.json()["indexUid"] is None
    again = client.post("/network/control", json=_control(version), headers=origin.headers())
    assert again.json()["taskUid"] == sent.json()["taskUid"]
    done = wait_task(client, sent.json()["taskUid"])
    assert done["status"] == "succeeded", done
    assert done["network"] == {"origin": {"remoteName": "ms-00", "taskUid": 12,
                                          "networkVersion": version}}  # fmt: skip
    # By hand (no origin headers), as Meilisearch allows: another task each time.
    by_hand = client.post("/network/control", json=_control(None, task=13))
    assert by_hand.status_code == 202 and by_hand.json()["taskUid"] != sent.json()["taskUid"]


def test_network_control_refuses_what_it_cannot_take(client: TestClient) -> None:
    enable(client)
    assert patch(client, {**THREE, "self": "ms-01"}).status_code == 202
    version = client.get("/network").json()["version"]
    cases: list[tuple[Any, int, str]] = [
        ([], 400, "bad_request"),
        ({"origin": {"remoteName": "ms-00", "taskUid": 1}}, 400, "bad_request"),
        ({**_control(version), "extra": 1}, 400, "bad_request"),
        ({**_control(version), "origin": {"remoteName": "ms-00"}}, 400,
         "invalid_network_control_origin"),
        ({**_control(version), "origin": {"remoteName": "ms-00", "taskUid": -1}}, 400,
         "invalid_network_control_origin"),
        ({**_control(version), "origin": {"remoteName": 3, "taskUid": 1}}, 400,
         "invalid_network_control_origin"),
        (_control("not-a-uuid"), 400, "invalid_network_version"),
        ({**_control(version), "message": {"type": "exportNoIndexForRemote"}}, 400,
         "invalid_network_control_message"),
        ({**_control(version), "message": {"type": "shout", "remote": "ms-00"}}, 400,
         "invalid_network_control_message"),
        ({**_control(version), "message": {"type": "importFinishedForRemote",
                                           "remote": "ms-02", "successful": True}}, 400,
         "invalid_network_control_message"),
        (_control(version, remote="ms-09"), 400, "invalid_network_control_message"),
        ({**_control(version), "origin": {"remoteName": "ms-09", "taskUid": 1}}, 400,
         "invalid_network_control_origin"),
        (_control(str(uuid.uuid4())), 409, "network_version_mismatch"),
    ]  # fmt: skip
    for body, status, code in cases:
        answer = client.post("/network/control", json=body)
        assert (answer.status_code, answer.json()["code"]) == (status, code), (body, answer.text)
    # The PATCH's own task only: no message was taken.
    assert client.get("/tasks", params={"types": "networkTopologyChange"}).json()["total"] == 1


def test_network_control_needs_the_key_the_leader_writes_with(client: TestClient) -> None:
    allowed = _key(client, ["network.update", "network.get"])
    leader_key = _key(client, ["network.update", "network.get"])
    enable(client)
    mine = {**THREE["remotes"]["ms-01"], "writeApiKey": leader_key}
    assert patch(client, {**THREE, "self": "ms-01",
                          "remotes": {**THREE["remotes"], "ms-01": mine}}).is_success
    version = client.get("/network").json()["version"]
    refused = client.post("/network/control", json=_control(version),
                          headers={"Authorization": f"Bearer {allowed}"})  # fmt: skip
    assert refused.status_code == 403 and refused.json()["code"] == "invalid_forwarded_write"
    taken = client.post("/network/control", json=_control(version),
                        headers={"Authorization": f"Bearer {leader_key}"})  # fmt: skip
    assert taken.status_code == 202, taken.text
    searcher = _key(client, ["search"])
    denied = client.post("/network/control", json=_control(version),
                         headers={"Authorization": f"Bearer {searcher}"})  # fmt: skip
    assert denied.status_code == 403 and denied.json()["code"] == "invalid_api_key"
