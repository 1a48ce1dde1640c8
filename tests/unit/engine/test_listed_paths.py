"""`is_listed` (a path or an ancestor is listed) against the ancestor-by-ancestor
definition it replaced, which built every ancestor's string: quadratic in the path."""

from __future__ import annotations

import tracemalloc
from fnmatch import fnmatchcase

from hypothesis import given
from hypothesis import strategies as st

from sift.engine.filters.tree import is_listed

LETTERS = st.text(alphabet="ab.*?[]!", max_size=8)


def _by_ancestors(path: str, exact: list[str], globs: list[str]) -> bool:
    parts = path.split(".")
    prefixes = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(p in exact for p in prefixes) or any(
        fnmatchcase(p, glob) for glob in globs for p in prefixes
    )


@given(
    st.text(alphabet="ab.*", max_size=12),
    st.lists(st.text(alphabet="ab.", max_size=5), max_size=3),
    st.lists(LETTERS.map(lambda g: g if "*" in g else g + "*"), max_size=3),
)
def test_is_listed_agrees_with_every_ancestor(
    path: str, exact: list[str], globs: list[str]
) -> None:
    assert is_listed(path, exact, globs) == _by_ancestors(path, exact, globs)


def test_a_long_dotted_path_is_linear() -> None:
    """Counted in bytes allocated, not seconds (a loaded machine must not fail it): the
    ancestor-by-ancestor definition allocated every ancestor's string, ~n^2/2 bytes
    (~5 GB here), where one pass allocates nothing per ancestor."""
    path = ".".join(["a"] * 100_000)
    tracemalloc.start()
    try:
        assert not is_listed(path, ["b", "a.b"], ["b*", "*.c"])
        assert is_listed(path, [], ["a.a*"]) and is_listed(path, ["a.a"], [])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * len(path)
