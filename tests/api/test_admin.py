import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sift.app import create_app
from sift.config import load_config
from tests.conftest import MASTER_KEY, run_task


@pytest.fixture
def web(tmp_path: Path) -> Iterator[TestClient]:
    values = {"data_dir": str(tmp_path / "d"), "config_file": str(tmp_path / "x.toml")}
    config = load_config({**values, "master_key": MASTER_KEY}, environ={})
    # https: the session cookie is Secure, so a client only sends it back over TLS
    with TestClient(create_app(config), base_url="https://testserver") as c:
        yield c


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _sign_in(web: TestClient, key: str = MASTER_KEY) -> str:
    form = web.get("/admin/login")
    response = web.post("/admin/login", data={"csrf": _csrf(form.text), "key": key})
    assert response.status_code == 200 and "Overview" in response.text, response.text
    return _csrf(response.text)


def test_sign_in_session_cookie_and_sign_out(web: TestClient) -> None:
    assert web.get("/admin", follow_redirects=False).headers["location"] == "/admin/login"
    form = web.get("/admin/login")
    wrong = web.post("/admin/login", data={"csrf": _csrf(form.text), "key": "nope"})
    assert wrong.status_code == 401
    form = web.get("/admin/login")
    signed = web.post(
        "/admin/login", data={"csrf": _csrf(form.text), "key": MASTER_KEY}, follow_redirects=False
    )
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    assert MASTER_KEY not in cookie
    csrf = _csrf(web.get("/admin").text)
    web.post("/admin/logout", data={"csrf": csrf})
    assert web.get("/admin", follow_redirects=False).status_code == 303


def test_login_and_forms_need_csrf(web: TestClient) -> None:
    web.get("/admin/login")
    assert web.post("/admin/login", data={"csrf": "forged", "key": MASTER_KEY}).status_code == 401
    _sign_in(web)
    forged = web.post("/admin/keys", data={"csrf": "forged", "actions": "search"})
    assert forged.status_code == 403 and forged.json()["code"] == "invalid_csrf_token"


def test_settings_editor_validates_then_enqueues(web: TestClient) -> None:
    csrf = _sign_in(web)
    web.headers["Authorization"] = f"Bearer {MASTER_KEY}"
    run_task(web, "POST", "/indexes/books/documents", json=[{"id": 1, "title": "Dune"}])
    del web.headers["Authorization"]
    page = web.get("/admin/indexes/books")
    assert "1 documents" in page.text and "Dune" in page.text
    bad = web.post(
        "/admin/indexes/books/settings", data={"csrf": csrf, "settings": '{"rankingRules": [1]}'}
    )
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    good = web.post(
        "/admin/indexes/books/settings",
        data={"csrf": csrf, "settings": '{"filterableAttributes": ["title"]}'},
    )
    assert "Settings update enqueued" in good.text


def test_keys_are_created_and_deleted(web: TestClient) -> None:
    csrf = _sign_in(web)
    created = web.post(
        "/admin/keys", data={"csrf": csrf, "name": "ci", "actions": ["search"], "indexes": "*"}
    )
    assert "Created key “ci”" in created.text
    uid = re.search(
        r"/admin/keys/([0-9a-f-]+)/delete", created.text.split("ci</td>")[0][-2000:] + created.text
    ).group(1)
    deleted = web.post(f"/admin/keys/{uid}/delete", data={"csrf": csrf})
    assert deleted.status_code == 200


def test_search_only_key_cannot_sign_in(web: TestClient) -> None:
    page = web.get("/admin/login")
    web.headers["Authorization"] = f"Bearer {MASTER_KEY}"
    keys = web.get("/keys").json()["results"]
    del web.headers["Authorization"]
    search_key = next(k["key"] for k in keys if k["actions"] == ["search"])
    refused = web.post("/admin/login", data={"csrf": _csrf(page.text), "key": search_key})
    assert refused.status_code == 401


def test_webhooks_are_listed_created_and_deleted(web: TestClient) -> None:
    csrf = _sign_in(web)
    assert "No webhooks yet." in web.get("/admin/webhooks").text
    refused = web.post("/admin/webhooks", data={"csrf": csrf, "url": "not a url"})
    assert 'role="alert"' in refused.text and "not an absolute http or https URL" in refused.text
    created = web.post(
        "/admin/webhooks",
        data={
            "csrf": csrf,
            "url": "https://hooks.example/x",
            "authorization": "Bearer s3cr3t-v4lue",
        },
    )
    assert "Created a webhook to https://hooks.example/x." in created.text
    assert "s3cr3t-v4lue" not in created.text  # only the redacted form is ever shown
    uid = re.search(r"/admin/webhooks/([0-9a-f-]+)/delete", created.text).group(1)
    forged = web.post(f"/admin/webhooks/{uid}/delete", data={"csrf": "forged"})
    assert forged.status_code == 403
    deleted = web.post(f"/admin/webhooks/{uid}/delete", data={"csrf": csrf})
    assert deleted.status_code == 200 and "Webhook deleted" in deleted.text
    assert "No webhooks yet." in deleted.text


def _dashboard(tmp_path: Path, base_url: str, peer: tuple[str, int], **settings: str) -> TestClient:
    values = {"data_dir": str(tmp_path / "d"), "config_file": str(tmp_path / "x.toml")}
    config = load_config({**values, "master_key": MASTER_KEY, **settings}, environ={})
    return TestClient(create_app(config), base_url=base_url, client=peer)


def test_plain_http_sign_in_gets_cookies_without_secure(tmp_path: Path) -> None:
    # A LAN address over plain HTTP: a Secure cookie would be dropped by the browser.
    with _dashboard(tmp_path, "http://192.168.1.20:7700", ("192.168.1.30", 5000)) as web:
        form = web.get("/admin/login")
        assert "Secure" not in form.headers["set-cookie"]
        signed = web.post(
            "/admin/login",
            data={"csrf": _csrf(form.text), "key": MASTER_KEY},
            follow_redirects=False,
        )
        cookie = signed.headers["set-cookie"]
        assert signed.status_code == 303 and "HttpOnly" in cookie and "Secure" not in cookie
        assert "Overview" in web.get("/admin").text


@pytest.mark.parametrize(
    ("peer", "secure"),
    [(("127.0.0.1", 5000), True), (("203.0.113.5", 5000), False)],
    ids=["trusted proxy", "untrusted peer"],
)
def test_forwarded_https_makes_cookies_secure_from_a_trusted_proxy(
    tmp_path: Path, peer: tuple[str, int], secure: bool
) -> None:
    with _dashboard(tmp_path, "http://sift.internal:7700", peer) as web:
        form = web.get("/admin/login", headers={"X-Forwarded-Proto": "https"})
        assert ("Secure" in form.headers["set-cookie"]) is secure


def test_a_dropped_form_cookie_says_so(web: TestClient) -> None:
    form = web.get("/admin/login")
    web.cookies.clear()  # what a browser does with a cookie it refused to keep
    refused = web.post("/admin/login", data={"csrf": _csrf(form.text), "key": MASTER_KEY})
    assert refused.status_code == 401
    assert "did not send back the sign-in form&#39;s cookie" in refused.text
    assert "form expired" not in refused.text
    # A form from an earlier page (its cookie replaced since) still just expired.
    old = _csrf(web.get("/admin/login").text)
    web.get("/admin/login")
    stale = web.post("/admin/login", data={"csrf": old, "key": MASTER_KEY})
    assert stale.status_code == 401 and "The sign-in form expired" in stale.text


def test_sources_page_lists_sources_and_resnapshots(tmp_path: Path) -> None:
    toml = tmp_path / "sift.toml"
    toml.write_text('[[sources]]\nname = "shop"\nurl = "mysql://sift:secret@127.0.0.1:9/shop"\n'
                    '[[sources.tables]]\ntable = "products"\nindex = "products"\n')  # fmt: skip
    values = {"data_dir": str(tmp_path / "d"), "config_file": str(toml), "master_key": MASTER_KEY}
    with TestClient(create_app(load_config(values, environ={})),
                    base_url="https://testserver") as web:  # fmt: skip
        csrf = _sign_in(web)
        page = web.get("/admin/sources").text
        assert "shop" in page and "products" in page and "secret" not in page
        forged = web.post("/admin/sources/shop/resnapshot", data={"csrf": "forged"})
        assert forged.status_code == 403
        done = web.post("/admin/sources/shop/resnapshot", data={"csrf": csrf})
        assert done.status_code == 200 and "will be snapshotted again" in done.text
        missing = web.post("/admin/sources/nope/resnapshot", data={"csrf": csrf})
        assert "Source `nope` not found." in missing.text


def _books(web: TestClient) -> None:
    web.headers["Authorization"] = f"Bearer {MASTER_KEY}"
    run_task(web, "POST", "/indexes/books/documents", json=[{"id": 1, "title": "Dune"}])
    del web.headers["Authorization"]


def test_settings_forms_per_group_with_messages_next_to_the_field(web: TestClient) -> None:
    csrf = _sign_in(web)
    _books(web)
    page = web.get("/admin/indexes/books").text
    assert page.count('name="group"') == 5  # four groups and the whole-JSON form
    assert '<dt>title</dt><dd>Dune</dd>' in page  # a document as fields, not one JSON line
    bad = web.post(
        "/admin/indexes/books/settings",
        data={"csrf": csrf, "group": "ranking", "rankingRules": "words\nbogus:rule:x",
              "pagination": ""},
    )  # fmt: skip
    assert bad.status_code == 400
    error = re.search(r'<p class="field-error" id="s-rankingRules-error">([^<]+)</p>', bad.text)
    assert error and "ranking rule" in error.group(1).lower()
    assert 'aria-invalid="true"' in bad.text and "bogus:rule:x" in bad.text  # kept as typed
    not_json = web.post(
        "/admin/indexes/books/settings",
        data={"csrf": csrf, "group": "words", "stopWords": "", "synonyms": "{oops",
              "typoTolerance": ""},
    )  # fmt: skip
    assert not_json.status_code == 400 and 'id="s-synonyms-error">Not valid JSON' in not_json.text
    good = web.post(
        "/admin/indexes/books/settings",
        data={"csrf": csrf, "group": "filters", "filterableAttributes": "genre\n year ",
              "sortableAttributes": "", "distinctAttribute": "", "faceting": ""},
    )  # fmt: skip
    assert "Settings update enqueued" in good.text
    web.headers["Authorization"] = f"Bearer {MASTER_KEY}"
    task = web.get("/tasks", params={"types": "settingsUpdate"}).json()["results"][0]
    assert task["details"]["filterableAttributes"] == ["genre", "year"]


def test_tasks_read_as_words(web: TestClient) -> None:
    _sign_in(web)
    _books(web)
    web.headers["Authorization"] = f"Bearer {MASTER_KEY}"
    settings = {"filterableAttributes": ["genre", "year"]}
    run_task(web, "PATCH", "/indexes/books/settings", json=settings)
    del web.headers["Authorization"]
    page = web.get("/admin/tasks").text
    assert "PT0" not in page and re.search(r'<td class="num">\d+ ms</td>|< 1 ms', page)
    assert "genre, year" in page and "['genre'" not in page


def test_key_presets_and_a_confirmed_delete_that_warns_for_the_search_key(web: TestClient) -> None:
    csrf = _sign_in(web)
    created = web.post(
        "/admin/keys", data={"csrf": csrf, "name": "reader", "preset": "read", "indexes": "*"}
    )
    assert "Created key “reader”" in created.text
    web.headers["Authorization"] = f"Bearer {MASTER_KEY}"
    keys = {k["name"]: k for k in web.get("/keys").json()["results"]}
    del web.headers["Authorization"]
    assert keys["reader"]["actions"] == ["search", "*.get"]
    public = keys["Default Search API Key"]["uid"]
    confirm = web.get(f"/admin/keys/{public}/delete")
    assert confirm.status_code == 200 and "The public search page uses this key" in confirm.text
    other = web.get(f"/admin/keys/{keys['reader']['uid']}/delete").text
    assert "public search page" not in other and "cannot be undone" in other
    assert public in {k["uid"] for k in keys.values()}  # looking at the page deleted nothing


def test_keys_page_without_a_master_key_says_so_in_sift_terms(tmp_path: Path) -> None:
    values = {"data_dir": str(tmp_path / "d"), "config_file": str(tmp_path / "x.toml")}
    app = create_app(load_config(values, environ={}))
    with TestClient(app, base_url="https://testserver") as c:
        form = c.get("/admin/login")
        c.post("/admin/login", data={"csrf": _csrf(form.text)})
        page = c.get("/admin/keys").text
    assert "Sift is running without a master key" in page and "Meilisearch" not in page


def _signed_in_pages() -> list[tuple[str, str]]:
    """Every dashboard route that takes a `SignedIn` parameter, with its path filled in."""
    from fastapi.routing import APIRoute

    from sift.http.routes import admin, admin_rules, admin_sources, admin_webhooks

    session = admin.SignedIn.__metadata__[0].dependency
    pages = []
    for module in (admin, admin_rules, admin_sources, admin_webhooks):
        for route in module.router.routes:
            if isinstance(route, APIRoute) and any(
                d.call is session for d in route.dependant.dependencies
            ):
                path = re.sub(r"\{[^}]+\}", "x", route.path)
                pages += [(method, path) for method in sorted(route.methods)]
    return pages


def test_every_signed_in_page_sends_a_visitor_without_a_session_to_sign_in(
    web: TestClient,
) -> None:
    pages = _signed_in_pages()
    assert len(pages) >= 20  # keys, indexes, tasks, rules, sources, webhooks...
    for method, path in pages:
        answer = web.request(method, path, follow_redirects=False)
        assert (answer.status_code, answer.headers.get("location")) == (303, "/admin/login"), (
            method, path)
