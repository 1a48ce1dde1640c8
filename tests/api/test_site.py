import re

from fastapi.testclient import TestClient

from tests.conftest import MASTER_KEY, run_task, wait_task


def _cities(client: TestClient) -> None:
    docs = [
        {"id": 1, "name": "Paris", "continent": "Europe", "population": 2138551},
        {"id": 2, "name": "Lyon", "continent": "Europe", "population": 472317},
        {"id": 3, "name": "Lima", "continent": "South America", "population": 7737002},
    ]
    run_task(client, "POST", "/indexes/cities/documents", json=docs)
    settings = {
        "searchableAttributes": ["name", "continent"],
        "filterableAttributes": ["continent", "population"],
        "sortableAttributes": ["population"],
    }
    run_task(client, "PATCH", "/indexes/cities/settings", json=settings)


def test_search_page_renders_results_without_javascript(client: TestClient) -> None:
    _cities(client)
    page = client.get("/", params={"q": "pari"}, headers={"Authorization": ""})
    assert page.status_code == 200
    assert "1 result for “pari”" in page.text
    assert "<mark>Paris</mark>" in page.text or "<mark>Pari</mark>s" in page.text
    csp = page.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    # the page renders on the server: no API key reaches the browser
    assert "data-key" not in page.text and MASTER_KEY not in page.text
    assert 'href="/admin"' not in page.text  # the public page does not point at the dashboard


def test_facets_sort_and_no_results(client: TestClient) -> None:
    _cities(client)
    page = client.get("/search/cities", params={"f": "continent:Europe", "sort": "population:asc"})
    assert "2 results" in page.text
    assert page.text.index("Lyon") < page.text.index("Paris")
    assert 'aria-current="true" class="on"' in page.text
    empty = client.get("/search/cities", params={"q": "zzzzqqq"})
    assert "No results for “zzzzqqq”" in empty.text
    assert "No values" not in empty.text and "Filters" not in empty.text
    missing = client.get("/search/nothing")
    assert missing.status_code == 404 and "Search is not available" in missing.text
    # the API's `quoted` name as code, and nothing of a results page below the error
    assert "Index <code>nothing</code> not found." in missing.text
    assert "Filters" not in missing.text and "Sort:" not in missing.text


def _catalog(client: TestClient, count: int = 30) -> None:
    docs = [
        {
            "id": i,
            "title": f"Lamp {i}",
            "brand": f"Brand {i % 12:02d}",
            "inStock": i % 3 == 0,
            "year": 1990 + i,
            "price": 12000 + i,
        }
        for i in range(count)
    ]
    docs[0]["brand"] = "Zeta"  # the brand with most documents comes last alphabetically
    docs += [{"id": 100 + i, "title": f"Zeta lamp {i}", "brand": "Zeta"} for i in range(5)]
    docs[1]["url"] = "https://shop.example/lamp-1"
    run_task(client, "POST", "/indexes/shop/documents", json=docs)
    settings = {"searchableAttributes": ["title"], "filterableAttributes": ["brand", "inStock"]}
    run_task(client, "PATCH", "/indexes/shop/settings", json=settings)


def test_facets_by_count_with_more_values_behind_a_disclosure(client: TestClient) -> None:
    _catalog(client)
    page = client.get("/search/shop").text
    brands = re.findall(r'<span class="v">(Brand \d+|Zeta)</span>', page)
    assert brands[0] == "Zeta"  # 6 documents: first, though last alphabetically
    assert len(brands) == 13 and page.count("<details") == 1 and "Show 5 more" in page
    # booleans read as in the results, their links still filter on true/false
    assert '<span class="v">yes</span>' in page and '<span class="v">no</span>' in page
    assert "f=inStock%3Atrue" in page
    chip = client.get("/search/shop", params={"f": "inStock:true"}).text
    assert "In stock: yes" in chip


def test_facet_value_search_finds_values_beyond_the_first_ones(client: TestClient) -> None:
    _catalog(client)
    page = client.get("/search/shop", params={"facet": "brand", "fq": "zet"}).text
    assert re.findall(r'<span class="v">([^<]+)</span>', page)[:1] == ["Zeta"]
    assert "1 value matching “zet”" in page
    assert 'value="zet"' in page  # the box keeps what was typed


def test_values_titles_and_totals_read_as_a_person_expects(client: TestClient) -> None:
    _catalog(client)
    run_task(client, "PATCH", "/indexes/shop/settings", json={"pagination": {"maxTotalHits": 20}})
    page = client.get("/search/shop", params={"q": "lamp"}).text
    assert "More than 20 results for “lamp”" in page
    assert "<dd>1991</dd>" in page  # a year, not 1,991
    assert "<dd>12,001</dd>" in page  # a large number grouped
    # only a document with its own URL gets a link; the others are plain titles
    assert page.count('class="hit-link"') == 1
    assert 'href="https://shop.example/lamp-1"' in page
    assert 'placeholder="e.g. paris' not in page


def test_an_index_being_built_says_so_instead_of_no_results(client: TestClient) -> None:
    client.app.state.services.worker.stop()  # nothing runs: the task stays enqueued
    response = client.post("/indexes/books/documents", json=[{"id": 1, "title": "Dune"}])
    assert response.status_code == 202
    page = client.get("/search/books", params={"q": "dune"})
    assert page.status_code == 200
    assert "This index is being built" in page.text and "data-building" in page.text
    assert "No results" not in page.text and "not found" not in page.text


def test_assets_are_hashed_immutable_compressed_and_conditional(client: TestClient) -> None:
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    css = re.search(r'href="(/static/site\.[0-9a-f]{12}\.css)"', page.text).group(1)
    asset = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["content-encoding"] == "gzip"
    again = client.get(css, headers={"If-None-Match": asset.headers["etag"]})
    assert again.status_code == 304
    etag = page.headers["etag"]
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304
    # the API itself is not compressed
    assert "content-encoding" not in client.get("/indexes").headers


def _page_query_uid(client: TestClient, **headers: str) -> str | None:
    page = client.get("/", params={"q": "paris"}, headers={"Authorization": "", **headers})
    found = re.search(r'data-query-uid="([0-9a-f-]+)"', page.text)
    assert 'data-id="1" data-position="0"' in page.text
    return found.group(1) if found else None


def test_the_page_records_clicks_unless_the_visitor_opts_out(client: TestClient) -> None:
    _cities(client)
    query_uid = _page_query_uid(client)
    assert query_uid is not None
    click = {"queryUid": query_uid, "objectId": "1", "position": 0, "session": "tab-1"}
    assert client.post("/search/cities/click", json=click).status_code == 204
    for header in ({"DNT": "1"}, {"Sec-GPC": "1"}):
        assert _page_query_uid(client, **header) is None  # no uid: the script sends nothing
        assert client.post("/search/cities/click", json=click, headers=header).status_code == 204
    refused = client.post("/search/cities/click", json={**click, "position": "first"})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_event_position"
    assert client.post("/search/nowhere/click", json=click).status_code == 404
    report = client.get("/analytics/clicks").json()
    assert report["clicks"] == 1 and report["topClickedDocuments"][0]["objectId"] == "1"


def test_the_page_offers_popular_searches_from_query_suggestions(client: TestClient) -> None:
    _cities(client)
    for q in ("paris", "paris", "lyon", "lyon", "lima"):
        client.get("/", params={"q": q})
    assert client.patch(
        "/indexes/cities/query-suggestions", json={"destination": "cities-popular"}
    ).status_code == 200
    client.app.state.services.suggestions.refresh_all()
    last = client.get("/tasks", params={"limit": 1}).json()["results"][0]["uid"]
    assert wait_task(client, last)["status"] == "succeeded"
    page = client.get("/", params={"q": "pa"}).text
    assert 'aria-label="Popular searches"' in page and ">paris</a>" in page
    assert ">lima</a>" not in page  # searched once: below minSearches
    searches_before = client.get("/analytics/searches").json()["total"]
    client.get("/", params={"q": "ly"})
    # one page view, one search in the log: the suggestions lookup is not a search
    assert client.get("/analytics/searches").json()["total"] == searches_before + 1
