"""`_rankingScore` counts only the buckets a query can produce, as Meilisearch does."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import MASTER_KEY, make_client, run_task

MOVIES = [
    {"id": 1, "title": "Revolutionary Road",
     "overview": "A couple in a Connecticut suburb struggle; the wife wants to move to Paris."},
    {"id": 2, "title": "Gone Girl",
     "overview": "On his fifth wedding anniversary a man reports that his wife has gone missing."},
    {"id": 3, "title": "The Matrix", "overview": "A hacker learns the truth about his reality."},
]


@pytest.fixture
def movies(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path, master_key=MASTER_KEY, index_defaults="meilisearch") as c:
        c.headers["Authorization"] = f"Bearer {MASTER_KEY}"
        assert run_task(c, "POST", "/indexes/movies/documents", json=MOVIES)["status"] == (
            "succeeded")
        yield c


def _search(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/indexes/movies/search", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_rules_that_cannot_tell_hits_apart_leave_the_score_alone(movies: TestClient) -> None:
    # "wife" has four letters (no typo allowed) and is one word (no pair to be close).
    hits = _search(movies, q="wife", showRankingScore=True, showRankingScoreDetails=True)["hits"]
    assert {h["id"] for h in hits} == {1, 2}
    for hit in hits:
        details = hit["_rankingScoreDetails"]
        assert details["typo"] == {"order": 1, "typoCount": 0, "maxTypoCount": 0, "score": 1.0}
        assert details["proximity"]["score"] == 1.0
    # So the score is the one the other rules of Meilisearch's default list give alone.
    run_task(movies, "PUT", "/indexes/movies/settings/ranking-rules",
             json=["words", "attributeRank", "sort", "wordPosition", "exactness"])
    without = _search(movies, q="wife", showRankingScore=True)["hits"]
    assert [(h["id"], h["_rankingScore"]) for h in without] == [
        (h["id"], h["_rankingScore"]) for h in hits]
    assert all(h["_rankingScore"] < 0.5 for h in hits)  # was 0.97 with typo and proximity


def test_threshold_sees_the_same_scores(movies: TestClient) -> None:
    assert _search(movies, q="wife", rankingScoreThreshold=0.9)["hits"] == []
    assert len(_search(movies, q="wife", rankingScoreThreshold=0.2)["hits"]) == 2


def test_typo_buckets_follow_the_words_length(movies: TestClient) -> None:
    def typo(q: str) -> dict[str, Any]:
        hit = _search(movies, q=q, showRankingScoreDetails=True)["hits"][0]
        return hit["_rankingScoreDetails"]["typo"]

    # Five letters allow one typo: two buckets, and the typo costs the lower one.
    assert typo("marix") == {"order": 1, "typoCount": 1, "maxTypoCount": 1, "score": 0.5}
    # Two words of 5 to 8 letters: one typo each.
    assert typo("matrx hacker")["maxTypoCount"] == 2
    # A phrase is matched exactly: it allows none.
    assert typo('"wedding anniversary"')["maxTypoCount"] == 0
