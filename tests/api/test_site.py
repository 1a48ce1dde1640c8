import re

from fastapi.testclient import TestClient

from tests.conftest import run_task


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
    # the key handed to the page can search and nothing else
    key = re.search(r'data-key="([0-9a-f]+)"', page.text).group(1)
    assert key != client.headers["Authorization"].split()[1]
    searched = client.post(
        "/indexes/cities/search", json={}, headers={"Authorization": f"Bearer {key}"}
    )
    assert searched.status_code == 200
    listed = client.get("/indexes/cities/documents", headers={"Authorization": f"Bearer {key}"})
    assert listed.status_code == 403


def test_facets_sort_and_no_results(client: TestClient) -> None:
    _cities(client)
    page = client.get("/search/cities", params={"f": "continent:Europe", "sort": "population:asc"})
    assert "2 results" in page.text
    assert page.text.index("Lyon") < page.text.index("Paris")
    assert 'aria-current="true" class="on"' in page.text
    empty = client.get("/search/cities", params={"q": "zzzzqqq"})
    assert "No results for “zzzzqqq”" in empty.text
    missing = client.get("/search/nothing")
    assert missing.status_code == 404 and "Search is not available" in missing.text


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
