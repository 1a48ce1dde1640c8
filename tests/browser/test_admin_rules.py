"""The dashboard's Search rules page in Chromium: keyboard only, axe-core clean."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import MASTER_KEY
from tests.browser.test_search_page import no_violations, sign_in

pytestmark = pytest.mark.slow
# Waiting assertions: a form posts and the next page may still be loading when read.
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect


def test_search_rules_page_by_keyboard(server: str, page: Any) -> None:
    sign_in(server, page)
    page.goto(server + "/admin/rules")
    assert page.get_by_role("link", name="Search rules").get_attribute("aria-current") == "page"
    no_violations(page, "search rules off")
    page.get_by_role("button", name="Turn on search rules").click()
    expect(page.locator("[role=status]")).to_contain_text("Search rules are on.")
    no_violations(page, "no rules yet")
    page.get_by_role("link", name="New rule").click()
    # Fields reached by their labels, typed into: what a keyboard or screen reader user does.
    page.get_by_label("Rule ID").fill("browser-test")
    page.get_by_label("Pinned documents").fill("first, 12")
    page.get_by_label("Pinned documents").press("Tab")  # to the boosts field
    page.keyboard.press("Tab")  # to "Save rule"
    page.keyboard.press("Enter")
    alert = page.locator("[role=alert]")
    assert "Pinned documents, line 1" in alert.inner_text()
    assert page.get_by_label("Rule ID").input_value() == "browser-test"  # kept
    no_violations(page, "rule form error")
    page.get_by_label("Description (optional)").fill("Pins a city on another index")
    page.get_by_label("The query has these words").fill("harbour city")
    page.get_by_label("Pinned documents").fill("1, 12, not-cities")
    page.get_by_label("Boosts, demotions and hides").fill("0, not-cities, ids: 3")
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator("[role=status]")).to_contain_text("Saved rule browser-test.")
    row = page.locator("tr", has_text="browser-test")
    assert "pin 12 at 1" in row.inner_text() and "On" in row.inner_text()
    no_violations(page, "rules list")
    row.get_by_role("button", name="Turn off rule browser-test").click()
    expect(page.locator("[role=status]")).to_contain_text("Rule browser-test is off.")
    page.locator("tr", has_text="browser-test").get_by_role("link").click()
    assert page.get_by_label("Rule ID").get_attribute("readonly") is not None
    no_violations(page, "rule form")
    page.get_by_role("link", name="All search rules").click()
    page.locator("tr", has_text="browser-test").get_by_role(
        "button", name="Delete rule browser-test").click()
    expect(page.locator("[role=status]")).to_contain_text("Deleted rule browser-test.")
    # The server is shared by the other browser tests: leave the switch as it was.
    page.request.patch(server + "/experimental-features", data={"dynamicSearchRules": False},
                       headers={"Authorization": f"Bearer {MASTER_KEY}"})
    # the only console error: Chromium noting the form's answer, a 400 on purpose
    assert [e for e in page.errors if "status of 400" not in e] == []
