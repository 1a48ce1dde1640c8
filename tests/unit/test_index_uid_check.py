"""validate_index_uid (sift/http/responses.py) keeps the uids it found valid, so a
search's per-request check is a set lookup: the answers must stay the regular
expression's, for every input, however often it is asked."""

from __future__ import annotations

from typing import Any

import pytest

from sift.errors import SiftError
from sift.http import responses
from sift.http.responses import validate_index_uid

INVALID: list[Any] = ["bad uid", "", "x" * 401, "é", ["movies"], {"uid": "movies"}, 5, None,
                      True]  # fmt: skip


@pytest.mark.parametrize("uid", INVALID)
def test_an_invalid_uid_is_refused_every_time(uid: Any) -> None:
    validate_index_uid("movies")  # a valid uid kept first: the refusal must not change
    for _ in range(3):
        with pytest.raises(SiftError) as refused:
            validate_index_uid(uid, "invalid_index_uid")
        assert refused.value.code == "invalid_index_uid"
        assert "is not a valid index uid" in str(refused.value)
    assert not isinstance(uid, str) or uid not in responses._VALID_UIDS


def test_a_valid_uid_is_answered_as_given_and_the_cache_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(responses, "_VALID_UIDS", set())
    monkeypatch.setattr(responses, "_VALID_UIDS_MAX", 3)
    uids = [f"index-{i}" for i in range(10)]
    for uid in uids * 2:
        assert validate_index_uid(uid) == uid
        assert len(responses._VALID_UIDS) <= 3
    assert set(uids) >= responses._VALID_UIDS
    assert not any(isinstance(u, str) and u in responses._VALID_UIDS for u in INVALID)
