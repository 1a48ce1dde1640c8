"""A site on one origin searching Sift on another, and the dashboard over plain HTTP.

The page is what a website ships: InstantSearch.js with instant-meilisearch (from npm,
tests/browser/package.json), served from its own 127.0.0.1 port, searching Sift's demo
index with the default search key. The browser enforces CORS: without Sift's answers
to its preflights the page shows no hits.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import CHROMIUM, MASTER_KEY

pytestmark = pytest.mark.slow
# A name Chromium resolves to 127.0.0.1 but does not treat as a secure context (localhost
# and 127.0.0.1 are): what a LAN address or an intranet name is to a browser.
LAN_HOST = "sift.example"
NODE_MODULES = Path(__file__).parent / "node_modules"
BUNDLES = [
    NODE_MODULES / "instantsearch.js" / "dist" / "instantsearch.production.min.js",
    NODE_MODULES / "@meilisearch" / "instant-meilisearch" / "dist" / "index.js",
    NODE_MODULES / "meilisearch" / "dist" / "index.js",
]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A site searching Sift</title>
<link rel="icon" href="data:,">
<script type="importmap">
  {"imports": {"meilisearch": "/node_modules/meilisearch/dist/index.js"}}
</script>
<script src="/node_modules/instantsearch.js/dist/instantsearch.production.min.js"></script>
</head><body>
<div id="searchbox"></div><div id="hits"></div>
<script type="module">
  import { instantMeiliSearch } from
    "/node_modules/@meilisearch/instant-meilisearch/dist/index.js";
  const { searchClient } = instantMeiliSearch(SIFT_URL, SEARCH_KEY);
  const search = instantsearch({ indexName: "cities", searchClient });
  search.addWidgets([
    instantsearch.widgets.searchBox({ container: "#searchbox" }),
    instantsearch.widgets.hits({
      container: "#hits",
      templates: { item: (hit, { html }) => html`<span class="city">${hit.name}</span>` },
    }),
  ]);
  search.start();
</script>
</body></html>
"""


class QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _sift(server: str) -> str:
    # The conftest server answers on localhost; here both origins are 127.0.0.1.
    return server.replace("://localhost:", "://127.0.0.1:")


@pytest.fixture(scope="module")
def site(server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    missing = [str(p) for p in BUNDLES if not p.exists()]
    if missing:
        pytest.skip(f"missing {missing} (npm install --prefix tests/browser)")
    keys = httpx.get(
        f"{server}/keys", headers={"Authorization": f"Bearer {MASTER_KEY}"}, timeout=10
    ).json()["results"]
    search_key = next(k["key"] for k in keys if k["name"] == "Default Search API Key")
    root = tmp_path_factory.mktemp("site")
    html = PAGE.replace("SIFT_URL", json.dumps(_sift(server)))
    (root / "index.html").write_text(html.replace("SEARCH_KEY", json.dumps(search_key)))
    (root / "node_modules").symlink_to(NODE_MODULES)
    handler = functools.partial(QuietFiles, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_instant_meilisearch_on_another_origin_shows_hits(
    server: str, site: str, page: Any
) -> None:
    answers: list[tuple[str, int]] = []
    page.on("response", lambda r: answers.append((r.url, r.status)))
    page.goto(site + "/")
    page.wait_for_selector("#hits .city", timeout=15000)  # the empty query's first page
    page.locator("#searchbox input").fill("paris")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#hits .city')].some(e => e.textContent === 'Paris')",
        timeout=15000,
    )
    searches = [status for url, status in answers if url.startswith(_sift(server))]
    assert searches and all(status == 200 for status in searches)
    assert page.errors == []


@pytest.fixture
def lan_page(browser: Any) -> Iterator[Any]:
    lan = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--headless=new", f"--host-resolver-rules=MAP {LAN_HOST} 127.0.0.1"],
    )
    try:
        yield lan.new_page()
    finally:
        lan.close()


def test_dashboard_sign_in_over_plain_http_on_a_lan_name(server: str, lan_page: Any) -> None:
    # Over plain HTTP anywhere but localhost a browser drops Secure cookies: sign-in works
    # there only because Sift does not mark them Secure without HTTPS.
    base = server.replace("://localhost:", f"://{LAN_HOST}:")
    lan_page.goto(base + "/admin/login")
    lan_page.get_by_label("Master key or admin API key").fill(MASTER_KEY)
    with lan_page.expect_navigation():
        lan_page.get_by_role("button", name="Sign in").click()
    assert lan_page.url == base + "/admin", lan_page.get_by_role("alert").all_inner_texts()
    assert lan_page.get_by_role("heading", name="Overview").count() == 1


def test_a_dropped_sign_in_cookie_is_explained(server: str, page: Any) -> None:
    page.goto(server + "/admin/login")
    page.context.clear_cookies()  # as a browser that refuses cookies would have
    page.get_by_label("Master key or admin API key").fill(MASTER_KEY)
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert").inner_text()
    assert "did not send back the sign-in form's cookie" in alert
    assert "expired" not in alert
