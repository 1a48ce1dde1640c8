"""The dashboard's search rules page: turn the feature on, create, edit, switch, delete."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from tests.api.test_admin import _sign_in, web  # noqa: F401  (the fixture)
from tests.conftest import MASTER_KEY


def test_rules_page_creates_edits_switches_and_deletes(web: TestClient) -> None:  # noqa: F811
    csrf = _sign_in(web)
    off = web.get("/admin/rules")
    assert off.status_code == 200 and "Turn on search rules" in off.text
    on = web.post("/admin/rules/enable", data={"csrf": csrf})
    assert on.status_code == 200 and "Search rules are on." in on.text
    assert "No search rules yet." in on.text
    form = web.get("/admin/rules/new")
    assert 'for="r-uid"' in form.text and 'aria-current="page"' in form.text
    unreadable = web.post("/admin/rules", data={"csrf": csrf, "uid": "promo", "pins": "first, 4"})
    assert unreadable.status_code == 400
    assert 'role="alert"' in unreadable.text and "Pinned documents, line 1" in unreadable.text
    assert 'value="promo"' in unreadable.text  # what was typed comes back
    # What the API refuses comes back with its message.
    refused = web.post("/admin/rules", data={"csrf": csrf, "uid": "promo", "precedence": "-1"})
    assert refused.status_code == 400 and "`.precedence`" in html.unescape(refused.text)
    saved = web.post("/admin/rules", data={
        "csrf": csrf, "uid": "promo", "description": "Summer", "precedence": "3",
        "active": "on", "words": "summer sale", "start": "2026-06-01T00:00",
        "pins": "1, 4, books\n2, 7", "scales": "0, *, filter: stock = 0\n4, books, ids: 1 2",
    })
    assert saved.status_code == 200 and "Saved rule promo." in saved.text
    headers = {"Authorization": f"Bearer {MASTER_KEY}"}
    rule = web.get("/dynamic-search-rules/promo", headers=headers).json()
    assert rule["precedence"] == 3 and rule["active"] is True
    assert rule["conditions"] == {"query": {"isEmpty": None, "words": "summer sale"},
                                  "time": {"start": "2026-06-01T00:00:00Z", "end": None}}
    assert rule["actions"]["pin"] == [{"id": "4", "position": 0, "indexUid": "books"},
                                      {"id": "7", "position": 1, "indexUid": None}]
    assert rule["actions"]["scale"][1] == {"weight": 4.0, "ids": ["1", "2"], "filter": None,
                                           "indexUid": "books"}
    listed = html.unescape(saved.text)
    assert "the query has the words “summer sale”" in listed and "hide “stock = 0”" in listed
    edit = web.get("/admin/rules/promo")
    assert "readonly" in edit.text and "1, 4, books" in edit.text
    assert "0, *, filter: stock = 0" in html.unescape(edit.text)
    off_now = web.post("/admin/rules/promo/active", data={"csrf": csrf, "active": "false"})
    assert "Rule promo is off." in off_now.text
    assert web.get("/dynamic-search-rules/promo", headers=headers).json()["active"] is False
    forged = web.post("/admin/rules/promo/delete", data={"csrf": "forged"})
    assert forged.status_code == 403
    deleted = web.post("/admin/rules/promo/delete", data={"csrf": csrf})
    assert "Deleted rule promo." in deleted.text and "No search rules yet." in deleted.text
