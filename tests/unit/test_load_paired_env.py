"""`--serve-env` of the paired load benchmark: each tree's server environment."""

from __future__ import annotations

import pytest
from benchmarks.load.paired import parse_serve_env


def test_each_tree_gets_its_own_variables_and_values_may_hold_equals_signs() -> None:
    specs = [
        "thp=GLIBC_TUNABLES=glibc.malloc.hugetlb=1",
        "both=GLIBC_TUNABLES=glibc.malloc.hugetlb=1 PYTHONMALLOC=malloc",
    ]
    assert parse_serve_env(specs) == {
        "thp": {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"},
        "both": {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1", "PYTHONMALLOC": "malloc"},
    }
    assert parse_serve_env([]) == {}


def test_an_assignment_without_a_value_is_refused() -> None:
    with pytest.raises(SystemExit, match="not KEY=VALUE"):
        parse_serve_env(["thp=GLIBC_TUNABLES"])
