"""The matching strategy drops words, never what the query put in quotes (as Meilisearch)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import MASTER_KEY, make_client, run_task

TITLES = [
    "Dumbo", "The Lion King", "Bambi", "Pinocchio", "Fantasia", "Cinderella", "Peter Pan",
    "Lady and the Tramp", "Sleeping Beauty", "The Jungle Book", "Robin Hood", "Aladdin",
    "Mulan", "Tarzan", "Hercules", "Pocahontas", "Coco Before Chanel", "Dumbo the Flying Elephant",
]


@pytest.fixture
def movies(tmp_path: Path) -> Iterator[TestClient]:
    """Meilisearch-defaults mode: its bucket ranking rules, where the strategy applies."""
    with make_client(tmp_path, master_key=MASTER_KEY, index_defaults="meilisearch") as c:
        c.headers["Authorization"] = f"Bearer {MASTER_KEY}"
        docs = [{"id": i, "title": t} for i, t in enumerate(TITLES)]
        assert run_task(c, "POST", "/indexes/movies/documents", json=docs)["status"] == "succeeded"
        yield c


def _titles(client: TestClient, q: str, strategy: str = "last") -> list[str]:
    body = {"q": q, "matchingStrategy": strategy}
    response = client.post("/indexes/movies/search", json=body)
    assert response.status_code == 200, response.text
    return [h["title"] for h in response.json()["hits"]]


@pytest.mark.parametrize("strategy", ["last", "frequency"])
def test_a_quoted_word_is_kept_and_the_other_words_dropped(
    movies: TestClient, strategy: str
) -> None:
    # No title has both words: "coco" goes, "dumbo" stays (so Coco Before Chanel is out).
    assert set(_titles(movies, 'coco "dumbo"', strategy)) == {
        "Dumbo", "Dumbo the Flying Elephant"}
    assert set(_titles(movies, '"dumbo" coco', strategy)) == {
        "Dumbo", "Dumbo the Flying Elephant"}
    # A phrase stays whole; both words outside it may go.
    assert _titles(movies, 'bambi "lion king" tarzan', strategy) == ["The Lion King"]
    assert _titles(movies, 'coco "king lion"', strategy) == []


def test_documents_matching_more_words_still_come_first(movies: TestClient) -> None:
    assert _titles(movies, 'flying "dumbo"') == ["Dumbo the Flying Elephant", "Dumbo"]
    assert _titles(movies, 'coco "dumbo"', "all") == []
    # Without quotes, the last strategy still keeps the first word.
    assert _titles(movies, "coco dumbo") == ["Coco Before Chanel"]
