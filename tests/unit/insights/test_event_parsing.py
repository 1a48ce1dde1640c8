"""`parse_event` answers every body as its careful path does: the inline path for plainly
valid events (on the loop for every `POST /events`) gives the same event, and leaves
everything else, errors included, to the careful path."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sift.errors import SiftError
from sift.insights.events import _checked_event, _usual_event, parse_event

NOW = datetime(2026, 12, 7, 9, 30, 1, 234_567)
ABSENT = object()
UID = "0190a0b1-0000-7000-8000-000000000000"

VALID: dict[str, Any] = {
    "eventType": "click",
    "eventName": "Search Result Clicked",
    "indexUid": "products",
    "userId": "visitor-1",
    "queryUid": UID,
    "objectId": "12",
    "objectName": "A product",
    "position": 3,
}
# Values on both sides of each field's rules: types, emptiness, lengths, ranges.
VARIANTS: dict[str, list[Any]] = {
    "eventType": [ABSENT, None, "click", "conversion", "view", "", " ", 1, ["click"]],
    "eventName": [ABSENT, None, "Clicked", "", "  ", "x" * 256, "x" * 257, 5, True],
    "indexUid": [ABSENT, None, "products", "bad uid", "", 3, "a" * 400, "a" * 401],
    "userId": [ABSENT, None, "u1", "", " ", "u" * 128, "u" * 129, 7, False],
    "queryUid": [ABSENT, None, UID, UID.upper(), UID.replace("-", ""), "{" + UID + "}", "", 1],
    "objectId": [ABSENT, None, "12", 12, 0, -5, True, 1.5, "", "x" * 512, "x" * 513, {}],
    "objectName": [ABSENT, None, "n", "", "x" * 256, "x" * 257, 3],
    "position": [ABSENT, None, 0, 3, -1, 2**31 - 1, 2**31, True, 1.5, "3"],
    "extra": [ABSENT, 1],  # an unknown field
}
HEADER_USERS = [None, "h1", "", " ", "h" * 128, "h" * 129]


def _body(changes: dict[str, Any]) -> dict[str, Any]:
    body = {**VALID, **changes}
    return {k: v for k, v in body.items() if v is not ABSENT}


def _outcome(parse: Any, body: dict[str, Any], header_user: str | None) -> Any:
    try:
        return parse(body, header_user, NOW)
    except SiftError as exc:
        return (exc.code, exc.message)


def _cases() -> list[tuple[dict[str, Any], str | None]]:
    cases = []
    for (a, values_a), (b, values_b) in itertools.combinations(VARIANTS.items(), 2):
        for value_a, value_b in itertools.product(values_a, values_b):
            cases.append((_body({a: value_a, b: value_b}), None))
    for name, values in VARIANTS.items():
        for value, header_user in itertools.product(values, HEADER_USERS):
            cases.append((_body({name: value}), header_user))
    return cases


def test_the_inline_path_gives_the_careful_paths_event_or_nothing() -> None:
    accepted = 0
    for body, header_user in _cases():
        careful = _outcome(_checked_event, body, header_user)
        assert _outcome(parse_event, body, header_user) == careful, (body, header_user)
        usual = _usual_event(body, header_user, NOW)
        if usual is not None:
            accepted += 1
            assert usual == careful, (body, header_user)
    assert accepted > 300  # the inline path does take the usual events


def test_the_usual_click_takes_the_inline_path() -> None:
    click = {k: VALID[k] for k in ("eventType", "eventName", "indexUid", "userId", "objectId",
                                   "position")}  # fmt: skip
    event = _usual_event(click, None, NOW)
    assert event is not None and event == _checked_event(click, None, NOW)
    assert _usual_event({**click, "userId": None}, "from-header", NOW) == _checked_event(
        {**click, "userId": None}, "from-header", NOW
    )
