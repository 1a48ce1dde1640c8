import time

import jwt
from fastapi.testclient import TestClient

from tests.conftest import run_task

MOVIES = [
    {"id": 1, "title": "The Matrix", "genre": "scifi", "year": 1999},
    {"id": 2, "title": "Matrix Reloaded", "genre": "scifi", "year": 2003},
    {"id": 3, "title": "Pride and Prejudice", "genre": "drama", "year": 2005},
    {"id": 4, "title": "The Godfather", "genre": "drama", "year": 1972},
]


def _movies(client: TestClient) -> None:
    run_task(client, "POST", "/indexes/movies/documents", json=MOVIES)
    task = run_task(
        client,
        "PATCH",
        "/indexes/movies/settings",
        json={"filterableAttributes": ["genre", "year"], "sortableAttributes": ["year"]},
    )
    assert task["status"] == "succeeded", task


def test_search_post_and_get(client: TestClient) -> None:
    _movies(client)
    result = client.post("/indexes/movies/search", json={"q": "matrix"}).json()
    assert {h["id"] for h in result["hits"]} == {1, 2}
    assert result["query"] == "matrix" and "processingTimeMs" in result
    got = client.get("/indexes/movies/search", params={"q": "matrx", "limit": 1}).json()
    assert len(got["hits"]) == 1 and got["limit"] == 1


def test_filter_sort_facets(client: TestClient) -> None:
    _movies(client)
    result = client.post(
        "/indexes/movies/search",
        json={"q": "", "filter": "genre = drama", "sort": ["year:asc"], "facets": ["genre"]},
    ).json()
    assert [h["id"] for h in result["hits"]] == [4, 3]
    assert result["facetDistribution"] == {"genre": {"drama": 2}}
    bad = client.post("/indexes/movies/search", json={"filter": "genre = "})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_search_filter"


def test_settings_routes(client: TestClient) -> None:
    run_task(client, "POST", "/indexes", json={"uid": "s"})
    settings = client.get("/indexes/s/settings").json()
    assert settings["searchableAttributes"] == ["*"]
    task = run_task(client, "PUT", "/indexes/s/settings/stop-words", json=["the"])
    assert task["type"] == "settingsUpdate" and task["status"] == "succeeded"
    assert client.get("/indexes/s/settings/stop-words").json() == ["the"]
    run_task(client, "DELETE", "/indexes/s/settings/stop-words")
    assert client.get("/indexes/s/settings/stop-words").json() == []
    bad = client.patch("/indexes/s/settings", json={"rankingRules": ["nonsense"]})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_settings_ranking_rules"


def test_multi_search(client: TestClient) -> None:
    _movies(client)
    result = client.post(
        "/multi-search",
        json={
            "queries": [
                {"indexUid": "movies", "q": "godfather"},
                {"indexUid": "movies", "q": "pride"},
            ]
        },
    ).json()
    assert [r["hits"][0]["id"] for r in result["results"]] == [4, 3]
    missing = client.post("/multi-search", json={"queries": [{"indexUid": "nope", "q": "x"}]})
    assert missing.status_code == 404


def test_tenant_token_rules_become_filters(client: TestClient) -> None:
    _movies(client)
    keys = client.get("/keys").json()["results"]
    search_key = next(k for k in keys if k["actions"] == ["search"])
    token = jwt.encode(
        {
            "apiKeyUid": search_key["uid"],
            "searchRules": {"movies": {"filter": "genre = drama"}},
            "exp": int(time.time()) + 600,
        },
        search_key["key"],
        algorithm="HS256",
    )
    auth = {"Authorization": f"Bearer {token}"}
    hits = client.post("/indexes/movies/search", json={"q": ""}, headers=auth).json()["hits"]
    assert {h["id"] for h in hits} == {3, 4}
    assert client.get("/indexes/movies/documents", headers=auth).status_code == 403
    expired = jwt.encode(
        {"apiKeyUid": search_key["uid"], "searchRules": ["*"], "exp": 1},
        search_key["key"],
        algorithm="HS256",
    )
    r = client.post(
        "/indexes/movies/search", json={}, headers={"Authorization": f"Bearer {expired}"}
    )
    assert r.status_code == 403 and r.json()["code"] == "invalid_api_key"
    assert r.json()["message"].startswith("Tenant token expired. Was valid up to `1` and we're now")
    forged = jwt.encode(
        {"apiKeyUid": search_key["uid"], "searchRules": ["*"]}, "not-the-key", algorithm="HS256"
    )
    r = client.post(
        "/indexes/movies/search", json={}, headers={"Authorization": f"Bearer {forged}"}
    )
    assert r.status_code == 403


def test_a_search_without_words_follows_custom_ranking_rules(client: TestClient) -> None:
    """As in Meilisearch, a placeholder search is ordered by the request's sort and the
    settings' `field:asc|desc` rules, in the order the ranking rules give them (a browse
    page ordered by popularity)."""
    settings = {
        "sortableAttributes": ["year", "popularity"],
        "rankingRules": ["words", "sort", "popularity:desc", "typo"],
    }
    run_task(client, "PATCH", "/indexes/films/settings", json=settings)
    films = [
        {"id": 1, "title": "a", "popularity": 2, "year": 2001},
        {"id": 2, "title": "b", "popularity": 9, "year": 1999},
        {"id": 3, "title": "c", "popularity": 5, "year": 1999},
    ]
    run_task(client, "POST", "/indexes/films/documents", json=films)

    def ids(body: dict) -> list[int]:
        return [h["id"] for h in client.post("/indexes/films/search", json=body).json()["hits"]]

    assert ids({}) == [2, 3, 1]
    assert ids({"q": ""}) == [2, 3, 1]
    assert ids({"sort": ["year:asc"]}) == [2, 3, 1]  # the sort rule first, popularity breaks ties
    assert ids({"sort": ["year:desc"]}) == [1, 2, 3]


def test_plain_hits_equal_the_formatted_paths_hits(client: TestClient) -> None:
    """A page with nothing to format (sift/engine/pipeline/respond.py reads it in one
    call) shows what the per-hit path shows, for every projection."""
    docs = [*MOVIES, {"id": 5, "title": "Matrix Revisited", "genre": "doc", "year": 2001,
                      "cast": {"lead": "Keanu", "more": ["Carrie"]},
                      "_vectors": {"manual": [0.1, 0.2]}}]  # fmt: skip
    run_task(client, "POST", "/indexes/movies/documents", json=docs)
    run_task(client, "PATCH", "/indexes/movies/settings",
             json={"displayedAttributes": ["id", "title", "cast", "year"]})  # fmt: skip
    for retrieve in (None, ["id"], ["title", "genre"], ["cast.lead"], ["*"], ["_vectors"]):
        body: dict = {"q": "matrix"}
        if retrieve is not None:
            body["attributesToRetrieve"] = retrieve
        plain = client.post("/indexes/movies/search", json=body).json()["hits"]
        scored = client.post("/indexes/movies/search",
                             json={**body, "showRankingScore": True}).json()["hits"]  # fmt: skip
        assert plain == [{k: v for k, v in h.items() if k != "_rankingScore"} for h in scored]
        assert [list(h) for h in plain] == [
            [k for k in h if k != "_rankingScore"] for h in scored]  # key order too
        assert len(plain) == 3  # The Matrix, Matrix Reloaded, Matrix Revisited


def test_a_255_letter_token_is_found_whole_by_a_prefix_and_with_a_typo(
        client: TestClient) -> None:
    """Issue #18: terms longer than the term table's rows keep their letters apart
    (sift.engine.terms); a search for one finds it as any other term."""
    token = "abcdefghij" * 25 + "klmno"  # MAX_WORD_CHARS letters
    docs = [{"id": 1, "title": f"long {token}"}, {"id": 2, "title": f"other {token[:-1]}q"},
            {"id": 3, "title": "short words only"}]
    run_task(client, "POST", "/indexes/long/documents", json=docs)

    def ids(q: str, **more: object) -> list[int]:
        body = {"q": q, **more}
        return [h["id"] for h in client.post("/indexes/long/search", json=body).json()["hits"]]

    assert ids(token, matchingStrategy="all") == [1, 2]  # the other one typo away
    assert ids(f"long {token[:100]}") == [1, 2]  # a prefix longer than the rows
    assert ids(token[:30] + "x" + token[31:]) == [1, 2]  # a typo in a long word
    assert ids(token[:-1] + "q") == [2, 1]
    assert ids("words") == [3]
