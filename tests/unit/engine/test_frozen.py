"""quick_init: a frozen dataclass's __init__ without object.__setattr__, the same instance."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field

import pytest

from sift.engine.corpus.stats import WordFacts
from sift.engine.frozen import quick_init
from sift.engine.pipeline.lexical import LexicalCandidates
from sift.engine.pipeline.page import Page
from sift.engine.pipeline.request import Request
from sift.engine.pipeline.stages import Ranking, StageContext
from sift.engine.ranking import Ties
from sift.engine.word_totals import WordTotals


@dataclass(frozen=True)
class _Generated:
    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list)


@quick_init
@dataclass(frozen=True)
class _Quick:
    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list)


def test_the_same_instance_as_the_generated_init() -> None:
    for args, kwargs in [((1,), {}), ((1, "x"), {}), ((1,), {"c": [2]}), ((), {"a": 3, "b": "y"})]:
        made, generated = _Quick(*args, **kwargs), _Generated(*args, **kwargs)
        assert dataclasses.asdict(made) == dataclasses.asdict(generated)  # type: ignore[call-overload]
        assert repr(made).replace("_Quick", "") == repr(generated).replace("_Generated", "")
    assert _Quick(1) == _Quick(1) and hash(_Quick(1, "x", ())) == hash(_Quick(1, "x", ()))  # type: ignore[arg-type]
    assert _Quick(1).c is not _Quick(1).c  # a fresh default each time
    assert str(inspect.signature(_Quick)) == str(inspect.signature(_Generated))
    assert dataclasses.replace(_Quick(1), b="z") == _Quick(1, "z")


def test_still_refuses_assignment() -> None:
    made = _Quick(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.a = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del made.a  # type: ignore[misc]
    with pytest.raises(TypeError):
        _Quick()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _Quick(1, "b", [], 4)  # type: ignore[call-arg]


def test_refuses_what_it_cannot_write() -> None:
    @dataclass
    class Plain:
        a: int

    @dataclass(frozen=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True)
    class KeywordOnly:
        a: int = field(kw_only=True)

    @dataclass(frozen=True, slots=True)
    class Slotted:
        a: int

    for cls in (Plain, Checked, KeywordOnly, Slotted):
        with pytest.raises(TypeError):
            quick_init(cls)


def test_a_search_s_frozen_dataclasses_are_built_without_object_setattr() -> None:
    # The classes a search builds: their __init__ is quick_init's, not the generated one.
    for cls in (Request, LexicalCandidates, Ranking, StageContext, Page, Ties, WordFacts,
                WordTotals):
        assert cls.__init__.__code__.co_filename.startswith("<quick_init"), cls
