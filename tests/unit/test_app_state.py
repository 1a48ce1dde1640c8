"""``app.state`` as Starlette's State, its values also plain attributes (sift/http/app_state.py)."""

import pytest
from starlette.datastructures import State

from sift.http.app_state import AppState


def test_behaves_as_starlettes_state() -> None:
    theirs, ours = State({"a": 1}), AppState({"a": 1})
    for state in (theirs, ours):
        state.b = 2
        state["c"] = 3
        del state.a
    assert {k: ours[k] for k in ours} == {k: theirs[k] for k in theirs} == {"b": 2, "c": 3}
    assert (ours.b, ours["c"], len(ours)) == (theirs.b, theirs["c"], len(theirs))
    del ours["c"]
    with pytest.raises(AttributeError):
        ours.c  # noqa: B018
    with pytest.raises(AttributeError):
        ours.a  # noqa: B018
    assert getattr(ours, "missing", None) is None


def test_values_are_found_without_getattr() -> None:
    state = AppState({"given": 1})
    state.set_later = 2
    state["by_item"] = 3
    # The ordinary lookup finds them: State.__getattr__ is never reached.
    assert vars(state)["given"] == 1
    assert vars(state)["set_later"] == 2
    assert vars(state)["by_item"] == 3
    state.set_later = 4
    assert state.set_later == state["set_later"] == 4


def test_names_of_the_class_are_stored_as_starlette_stores_them() -> None:
    theirs, ours = State(), AppState()
    for state in (theirs, ours):
        state._state = "a value"  # a key named as State's storage, kept in the storage
        state["__len__"] = "another"
    assert ours["_state"] == theirs["_state"] == "a value"
    assert ours["__len__"] == theirs["__len__"] == "another"
    assert len(ours) == len(theirs) == 2
    del ours._state
    assert len(ours) == 1


def test_the_app_has_one(tmp_path) -> None:
    from sift.app import create_app
    from sift.config import load_config

    app = create_app(load_config({"data_dir": str(tmp_path)}, environ={}))
    assert isinstance(app.state, AppState)
