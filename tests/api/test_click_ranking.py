"""Ranking that learns from clicks (`clickRanking`): through the real routes, events posted
by visitors lift the document they chose, only where the index opted in, and the score
details say why."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import make_client, run_task

META = {"Meili-Include-Metadata": "true"}
BOOKS = [
    {"id": 1, "title": "Dune", "text": "dune dune desert planet"},
    {"id": 2, "title": "Dune Messiah", "text": "dune sequel"},
    {"id": 3, "title": "Children of Dune", "text": "the third book"},
    {"id": 4, "title": "Sand", "text": "a dune in a desert, briefly"},
]


def _ids(client: TestClient, **extra: object) -> list[int]:
    body = {"q": "dune", **extra}
    return [h["id"] for h in client.post("/indexes/books/search", json=body).json()["hits"]]


def _choose(client: TestClient, object_id: int, users: int, q: str = "Dune") -> None:
    """`users` visitors search `q`, then click `object_id` where they saw it (twice each)."""
    for u in range(users):
        user = {"X-MS-USER-ID": f"visitor-{u}"}
        found = client.post(
            "/indexes/books/search", json={"q": q}, headers={**META, **user}
        ).json()
        position = [h["id"] for h in found["hits"]].index(object_id)
        for _ in range(2):
            event = {
                "eventType": "click",
                "eventName": "Search Result Clicked",
                "indexUid": "books",
                "queryUid": found["metadata"]["queryUid"],
                "objectId": str(object_id),
                "position": position,
            }
            assert client.post("/events", json=event, headers=user).status_code == 201


def test_chosen_documents_rise_only_with_the_setting_on(tmp_path: Path) -> None:
    with make_client(tmp_path, click_model_interval=3600.0) as client:
        run_task(client, "POST", "/indexes/books/documents", json=BOOKS)
        before = _ids(client)
        other = {"q": "desert", "showRankingScore": True}
        other_before = client.post("/indexes/books/search", json=other).json()["hits"]
        chosen = before[-1]
        # The index's habits: where visitors click for its other queries (the top result),
        # against which a choice at the bottom of "dune" stands out.
        for q, top in (("sequel", 2), ("third", 3), ("planet", 1)):
            _choose(client, top, users=6, q=q)
        _choose(client, chosen, users=6)
        models = client.app.state.services.clicks
        models.refresh()
        assert _ids(client) == before  # off by default: the same ranking, exactly
        assert "clickRanking" not in client.get("/indexes/books/settings").json()
        task = run_task(
            client, "PATCH", "/indexes/books/settings", json={"clickRanking": {"enabled": True}}
        )
        assert task["status"] == "succeeded", task
        assert client.get("/indexes/books/settings/click-ranking").json() == {"enabled": True}
        assert client.get("/indexes/books/settings").json()["clickRanking"] == {"enabled": True}
        assert models.refresh() == 1
        after = _ids(client)
        assert after[0] == chosen and sorted(after) == sorted(before)
        hits = client.post(
            "/indexes/books/search", json={"q": "dune", "showRankingScoreDetails": True}
        ).json()["hits"]
        clicks = hits[0]["_rankingScoreDetails"]["clicks"]
        assert clicks["users"] == 6 and 0.5 < clicks["score"] <= 1 and clicks["weight"] == 0.8
        assert 0 < clicks["expectedUsers"] < 6 and clicks["neutralScore"] == 0.5
        # The others were seen above it and skipped: left alone, or fallen (score < 0.5).
        others = [h["_rankingScoreDetails"].get("clicks") for h in hits[1:]]
        assert all(c is None or c["score"] < 0.5 for c in others)
        # A query nobody clicked for is searched exactly as before, scores included.
        assert client.post("/indexes/books/search", json=other).json()["hits"] == other_before
        run_task(client, "PATCH", "/indexes/books/settings", json={"clickRanking": None})
        models.refresh()
        assert _ids(client) == before


def test_too_few_visitors_change_nothing(tmp_path: Path) -> None:
    with make_client(tmp_path, click_model_interval=3600.0) as client:
        run_task(client, "POST", "/indexes/books/documents", json=BOOKS)
        run_task(client, "PATCH", "/indexes/books/settings",
                 json={"clickRanking": {"enabled": True}})  # fmt: skip
        before = _ids(client)
        _choose(client, before[-1], users=2)  # one bot clicking twice is one user too
        assert client.app.state.services.clicks.refresh() == 0
        assert _ids(client) == before


def test_a_bad_click_ranking_setting_is_refused(client: TestClient) -> None:
    run_task(client, "POST", "/indexes", json={"uid": "books"})
    for bad in ({"enabled": "yes"}, {"weight": 2}, True):
        answer = client.patch("/indexes/books/settings", json={"clickRanking": bad})
        assert answer.status_code == 400, answer.text
        assert answer.json()["code"] == "invalid_settings_click_ranking"


def test_a_search_answering_a_query_uid_records_what_its_first_page_showed(
    tmp_path: Path,
) -> None:
    """The impressions the ``examined`` model reads: the first page's ids in order, for a
    search asked for metadata; a later page or a search without metadata records none."""
    from sift.storage.schema import search_events

    with make_client(tmp_path) as client:
        run_task(client, "POST", "/indexes/books/documents", json=BOOKS)
        first = client.post("/indexes/books/search", json={"q": "dune", "limit": 2},
                            headers=META).json()  # fmt: skip
        client.post("/indexes/books/search", json={"q": "dune", "offset": 1}, headers=META)
        client.post("/indexes/books/search", json={"q": "dune"})
        services = client.app.state.services
        services.analytics.flush()
        with services.db.read() as conn:
            rows = conn.execute(
                search_events.select().order_by(search_events.c.id)
            ).mappings().all()
    ids = [str(h["id"]) for h in first["hits"]]
    assert [r["shown"] for r in rows] == [f'["{ids[0]}","{ids[1]}"]', None, None]
