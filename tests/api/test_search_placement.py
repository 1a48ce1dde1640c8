"""A search answers the same inline on the event loop as on a search thread."""

from __future__ import annotations

from pathlib import Path

from sift.http.search_placement import group_of
from tests.conftest import make_client, run_task


def test_searches_answer_alike_inline_and_on_a_thread(tmp_path: Path) -> None:
    answers = []
    for budget in (0.0, 1000.0):
        with make_client(tmp_path / str(budget), search_inline_ms=budget) as client:
            docs = [{"id": 1, "title": "Dune"}, {"id": 2, "title": "Dune Messiah"}]
            run_task(client, "POST", "/indexes/books/documents", json=docs)
            placement = client.app.state.search_placement  # type: ignore[attr-defined]
            group = group_of("books", {"q": "dune"})
            hits = [client.post("/indexes/books/search", json={"q": "dune"}).json()["hits"]
                    for _ in range(3)]  # fmt: skip
            assert placement.inline(group) == (budget > 0)
            answers.append(hits)
    assert answers[0] == answers[1]
    assert answers[0][0] == answers[0][2] and len(answers[0][0]) == 2


def test_a_search_on_a_thread_records_what_its_hand_off_cost(tmp_path: Path) -> None:
    with make_client(tmp_path, search_inline_ms=0.0) as client:
        run_task(client, "POST", "/indexes/books/documents", json=[{"id": 1, "title": "Dune"}])
        placement = client.app.state.search_placement  # type: ignore[attr-defined]
        assert placement.handoff == 0.0
        response = client.post("/indexes/books/search", json={"q": "dune"})
        assert response.status_code == 200 and len(response.json()["hits"]) == 1
        assert placement.handoff > 0.0

