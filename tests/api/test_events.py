"""Click and conversion events (`POST /events`) and the search metadata that links them to
searches (`Meili-Include-Metadata`), as Meilisearch's analytics clients send them."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from sift.storage.schema import insight_events, search_events
from tests.conftest import make_client, run_task

META = {"Meili-Include-Metadata": "true"}
BOOKS = [{"id": 1, "title": "Dune"}, {"id": 2, "title": "Dune Messiah"}, {"id": 3, "title": "Emma"}]


def _books(client: TestClient) -> None:
    run_task(client, "POST", "/indexes/books/documents", json=BOOKS)


def _click(query_uid: str | None, object_id: str = "1", position: int = 0, **extra: Any) -> dict:
    event = {
        "eventType": "click",
        "eventName": "Search Result Clicked",
        "indexUid": "books",
        "userId": "visitor-1",
        "objectId": object_id,
        "objectName": "Dune",
        "position": position,
        **extra,
    }
    if query_uid is not None:
        event["queryUid"] = query_uid
    return event


def _rows(client: TestClient, table: sa.Table) -> list[Any]:
    services = client.app.state.services
    services.analytics.flush()
    with services.db.read() as conn:
        return list(conn.execute(sa.select(table).order_by(table.c.id)))


def test_metadata_only_when_asked_with_a_time_ordered_uid(client: TestClient) -> None:
    _books(client)
    plain = client.post("/indexes/books/search", json={"q": "dune"}).json()
    assert "metadata" not in plain
    first = client.post("/indexes/books/search", json={"q": "dune"}, headers=META).json()
    second = client.get("/indexes/books/search?q=emma", headers={"Meili-Include-Metadata": "1"})
    meta, later = first["metadata"], second.json()["metadata"]
    assert meta["indexUid"] == "books" and meta["primaryKey"] == "id"
    assert uuid.UUID(meta["queryUid"]).version == 7
    assert meta["queryUid"] < later["queryUid"]  # UUIDv7: uids sort by time
    off = client.post("/indexes/books/search", json={}, headers={"Meili-Include-Metadata": "no"})
    assert "metadata" not in off.json()


def test_multi_search_answers_metadata_per_query_and_federated(client: TestClient) -> None:
    _books(client)
    queries = [{"indexUid": "books", "q": "dune"}, {"indexUid": "books", "q": "emma"}]
    multi = client.post("/multi-search", json={"queries": queries}, headers=META).json()
    uids = [r["metadata"]["queryUid"] for r in multi["results"]]
    assert len(set(uids)) == 2
    federated = client.post(
        "/multi-search", json={"queries": queries, "federation": {}}, headers=META
    ).json()
    assert [m["query"] for m in federated["metadata"]] == ["dune", "emma"]


def test_a_click_is_stored_linked_to_its_search_with_the_user_id_hashed(
    client: TestClient,
) -> None:
    _books(client)
    search = client.post(
        "/indexes/books/search", json={"q": "dune"}, headers={**META, "X-MS-USER-ID": "visitor-1"}
    ).json()
    query_uid = search["metadata"]["queryUid"]
    answer = client.post("/events", json=_click(query_uid))
    assert answer.status_code == 201 and answer.content == b""
    [event] = _rows(client, insight_events)
    assert event.query_uid == query_uid and event.object_id == "1" and event.position == 0
    assert event.user_id != "visitor-1" and len(event.user_id) == 64
    [searched] = _rows(client, search_events)
    assert searched.query_uid == query_uid and searched.user_id == event.user_id


def test_user_id_from_the_header_and_raw_ids_when_allowed(tmp_path: Any) -> None:
    with make_client(tmp_path, analytics_raw_user_ids=True) as client:
        _books(client)
        event = _click(None, object_id=2)  # a numeric id, as hits show it
        del event["userId"]
        answer = client.post("/events", json=event, headers={"X-MS-USER-ID": "abc"})
        assert answer.status_code == 201, answer.text
        [row] = _rows(client, insight_events)
        assert row.user_id == "abc" and row.object_id == "2"


def test_bad_events_are_refused_with_their_code_and_store_nothing(client: TestClient) -> None:
    _books(client)
    bad = [
        ({**_click(None), "eventType": "view"}, "invalid_event_type"),
        ({**_click(None), "eventName": ""}, "invalid_event_name"),
        ({**_click(None), "indexUid": "bad uid"}, "invalid_event_index_uid"),
        ({k: v for k, v in _click(None).items() if k != "userId"}, "invalid_event_user_id"),
        ({**_click(None), "queryUid": "not-a-uuid"}, "invalid_event_query_uid"),
        ({**_click(None), "position": -1}, "invalid_event_position"),
        ({**_click(None), "position": True}, "invalid_event_position"),
        ({**_click(None), "objectId": ["1"]}, "invalid_event_object_id"),
        ({**_click(None), "objectName": "x" * 257}, "invalid_event_object_name"),
        ({**_click(None), "extra": 1}, "bad_request"),
    ]
    for body, code in bad:
        answer = client.post("/events", json=body)
        assert answer.status_code == 400 and answer.json()["code"] == code, (body, answer.text)
    assert client.post("/events", json=[_click(None)]).json()["code"] == "bad_request"
    assert _rows(client, insight_events) == []


def test_a_search_key_may_send_events_for_its_own_indexes_only(tmp_path: Any) -> None:
    master = "a-master-key-0123456789"
    with make_client(tmp_path, master_key=master) as client:
        client.headers["Authorization"] = f"Bearer {master}"
        _books(client)
        key = client.post(
            "/keys", json={"actions": ["search"], "indexes": ["books"], "expiresAt": None}
        ).json()["key"]
        browser = {"Authorization": f"Bearer {key}"}
        assert client.post("/events", json=_click(None), headers=browser).status_code == 201
        other = client.post("/events", json={**_click(None), "indexUid": "movies"}, headers=browser)
        assert other.status_code == 403
        del client.headers["Authorization"]
        assert client.post("/events", json=_click(None)).status_code == 401


def test_events_are_refused_when_analytics_are_off(tmp_path: Any) -> None:
    with make_client(tmp_path, no_analytics=True) as client:
        answer = client.post("/events", json=_click(None))
        assert answer.status_code == 400 and answer.json()["code"] == "feature_not_enabled"


def test_click_report_answers_a_site_owners_questions(client: TestClient) -> None:
    _books(client)

    def search(q: str) -> str:
        return client.post("/indexes/books/search", json={"q": q}, headers=META).json()["metadata"][
            "queryUid"
        ]

    dune = [search("dune") for _ in range(4)]
    emma = search("emma")
    search("zzz")  # no result: not counted in click-through
    client.post("/events", json=_click(dune[0], "1", 0))
    client.post("/events", json=_click(dune[0], "2", 1))  # a second click, same search
    client.post("/events", json=_click(dune[1], "1", 2))
    conversion = {**_click(dune[1], "1"), "eventType": "conversion", "eventName": "Bought"}
    del conversion["position"]
    client.post("/events", json=conversion)
    report = client.get("/analytics/clicks").json()
    assert report["searches"] == 6 and report["clicks"] == 3 and report["conversions"] == 1
    assert report["clickThroughRate"] == round(2 / 5, 4)  # 2 of 5 searches with results
    assert report["conversionRate"] == round(1 / 5, 4)
    assert report["averageClickPosition"] == 2.0  # positions 1, 2, 3 as people count them
    assert report["topClickedDocuments"][0] == {
        "indexUid": "books",
        "objectId": "1",
        "objectName": "Dune",
        "clicks": 2,
    }
    assert report["queriesWithoutClicks"] == [{"query": "emma", "count": 1}]
    assert emma


def test_every_event_gets_the_same_answer_however_many_came_before(client: TestClient) -> None:
    """One prebuilt 201 answers every event (routes/events.py): the layers that add headers
    must add them to a copy, never to the shared answer's own list."""
    _books(client)
    answers = [client.post("/events", json=_click(None, str(n % 3 + 1))) for n in range(3)]
    heads = [[(k, v) for k, v in a.headers.items() if k != "x-request-id"] for a in answers]
    assert all(a.status_code == 201 and a.content == b"" for a in answers)
    assert heads[0] == heads[1] == heads[2]
    assert len({a.headers["x-request-id"] for a in answers}) == 3
