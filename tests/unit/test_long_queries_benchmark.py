"""The long-query task (benchmarks.tune.long_queries) and the leave-one-collection-out
grid: how queries, answers and seeds are built, and that the seed never scores."""

from __future__ import annotations

from benchmarks.tune.loco import combos
from benchmarks.tune.long_queries import long_tasks, without_seeds

CORPUS = [
    {"_id": "a", "title": "Alpha", "text": "one two three four five six seven"},
    {"_id": "b", "title": "Beta", "text": "one two"},
    {"_id": "c", "title": "Gamma", "text": "eight nine ten eleven twelve"},
]


def test_each_seed_is_cut_to_every_length_it_reaches() -> None:
    qrels = {"test:q1": {"a": 1, "b": 1, "c": 0}, "test:q2": {"c": 1}}
    tasks = long_tasks(CORPUS, qrels, "tiny", (2, 4, 9), max_queries=10)
    # q2 has one relevant document: no other answer to find, so no query.
    assert all("test:q2" not in t.queries for t in tasks.values())
    seed = tasks[2].seeds["test:q1"]
    doc = next(d for d in CORPUS if d["_id"] == seed)
    words = f"{doc['title']} {doc['text']}".split()
    assert tasks[2].queries["test:q1"] == " ".join(words[:2])
    assert seed not in tasks[2].qrels["test:q1"]  # the others are the answers
    assert ("test:q1" in tasks[4].queries) == (len(words) >= 4)
    assert "test:q1" not in tasks[9].queries  # no seed is 9 words long


def test_seeds_are_reproducible() -> None:
    qrels = {f"test:q{i}": {"a": 1, "b": 1, "c": 1} for i in range(20)}
    first = long_tasks(CORPUS, qrels, "tiny", (2,), max_queries=5)
    again = long_tasks(CORPUS, qrels, "tiny", (2,), max_queries=5)
    assert first[2].seeds == again[2].seeds and len(first[2].seeds) == 5


def test_the_seed_is_removed_from_the_hits_before_scoring() -> None:
    run = {"q": {"seed": 3.0, "x": 2.0, "y": 1.0}}
    assert without_seeds(run, {"q": "seed"}) == {"q": {"x": 10.0, "y": 9.0}}


def test_grid_combines_every_value() -> None:
    assert combos("k1=1,2;b=0.5") == [{"k1": 1.0, "b": 0.5}, {"k1": 2.0, "b": 0.5}]
