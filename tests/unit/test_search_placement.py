"""Searches run inline only while searches like them stay within the budget."""

from __future__ import annotations

import pytest

from sift.http.search_placement import MAX_GROUPS, SearchPlacement, group_of


def test_a_group_runs_on_a_thread_until_its_searches_have_been_timed() -> None:
    placement = SearchPlacement(0.001)
    group = group_of("books", {"q": "dune"})
    assert not placement.inline(group)
    assert placement.timed(group, lambda a, b: a + b, 1, 2) == 3
    assert placement.inline(group)


def test_a_slow_search_moves_its_group_off_the_loop_and_quick_ones_bring_it_back() -> None:
    placement = SearchPlacement(0.001)
    group = group_of("books", {"q": "dune"})
    placement._record(group, 0.0002)
    placement._record(group, 0.010)  # one slow search is enough
    assert not placement.inline(group)
    for _ in range(20):
        placement._record(group, 0.0002)
    assert placement.inline(group)


def test_a_search_that_fails_is_timed_too() -> None:
    placement = SearchPlacement(0.001)
    group = group_of("books", {"q": "dune"})

    def fail() -> None:
        raise ValueError("bad filter")

    with pytest.raises(ValueError):
        placement.timed(group, fail)
    assert placement.inline(group)


def test_groups_separate_what_changes_the_cost() -> None:
    base = group_of("books", {"q": "dune"})
    assert group_of("books", {"q": "emma"}) == base  # same shape, another word
    for other in (
        group_of("films", {"q": "dune"}),
        group_of("books", {"q": "dune messiah"}),
        group_of("books", {"q": "dune", "filter": "year > 1960"}),
        group_of("books", {"q": "dune", "facets": ["genre"]}),
        group_of("books", {"q": "dune", "sort": ["year:asc"]}),
        group_of("books", {"q": "dune", "limit": 1000}),
    ):
        assert other != base


def test_vector_and_network_searches_always_run_on_a_thread() -> None:
    placement = SearchPlacement(1.0)
    for body in ({"q": "dune", "hybrid": {"embedder": "e"}}, {"vector": [0.1]},
                 {"q": "dune", "useNetwork": True}):  # fmt: skip
        group = group_of("books", body)
        assert group is None
        placement.timed(group, lambda: None)
        assert not placement.inline(group)


def test_a_zero_budget_sends_everything_to_a_thread() -> None:
    placement = SearchPlacement(0.0)
    group = group_of("books", {"q": "dune"})
    placement._record(group, 0.0)
    assert not placement.inline(group)


def test_the_groups_kept_are_bounded() -> None:
    placement = SearchPlacement(0.001)
    for n in range(MAX_GROUPS + 1):
        placement._record(group_of(f"index{n}", {}), 0.0)
    assert len(placement._average) <= MAX_GROUPS

