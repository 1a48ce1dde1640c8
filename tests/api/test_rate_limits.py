"""Rate limits through the ASGI app: per address, per API key, failed authentications."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from sift.app import create_app
from sift.config import load_config
from tests.conftest import MASTER_KEY

PROXY = ("127.0.0.1", 40000)  # a trusted proxy by default (trusted_proxies: loopback)
MASTER = {"Authorization": f"Bearer {MASTER_KEY}"}


@contextmanager
def app_client(
    tmp_path: Path, peer: tuple[str, int] = PROXY, **settings: Any
) -> Iterator[TestClient]:
    values = {
        "data_dir": str(tmp_path / "data"),
        "config_file": str(tmp_path / "none.toml"),
        "master_key": MASTER_KEY,
        **settings,
    }
    with TestClient(create_app(load_config(values, environ={})), client=peer) as client:
        yield client


def from_address(address: str, **headers: str) -> dict[str, str]:
    return {"X-Forwarded-For": address, **headers}


def assert_limited(response: Any, code: str = "too_many_requests") -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["code"] == code
    assert body["type"] == ("auth" if code == "too_many_authentication_failures" else "system")
    assert body["link"] == f"https://docs.meilisearch.com/errors#{code}"
    assert int(response.headers["retry-after"]) >= 1


def test_an_address_over_its_bucket_gets_429_and_others_do_not(tmp_path: Path) -> None:
    with app_client(tmp_path, rate_limit_per_address="3/m burst 3") as client:
        for _ in range(3):
            assert client.get("/version", headers=from_address("198.51.100.1", **MASTER)).is_success
        refused = client.get("/version", headers=from_address("198.51.100.1", **MASTER))
        assert_limited(refused)
        assert "`198.51.100.1`" in refused.json()["message"]
        # A minute for three tokens: the next one is 20 s away.
        assert 15 <= int(refused.headers["retry-after"]) <= 20
        assert client.get("/version", headers=from_address("198.51.100.2", **MASTER)).is_success
        # Every route counts, with or without a key, the unknown ones too.
        assert_limited(client.get("/health", headers=from_address("198.51.100.1")))


def test_a_429_carries_cors_and_security_headers(tmp_path: Path) -> None:
    with app_client(tmp_path, rate_limit_per_address="1/m") as client:
        headers = from_address("198.51.100.3", Origin="https://www.example.com")
        client.get("/health", headers=headers)
        refused = client.get("/health", headers=headers)
        assert_limited(refused)
        assert refused.headers["access-control-allow-origin"] == "*"
        assert "Retry-After" in refused.headers["access-control-expose-headers"]
        assert refused.headers["x-content-type-options"] == "nosniff"


def test_forwarded_for_is_ignored_from_an_untrusted_peer(tmp_path: Path) -> None:
    peer = ("203.0.113.9", 50000)
    with app_client(tmp_path, peer, rate_limit_per_address="2/m burst 2") as client:
        client.get("/health", headers=from_address("198.51.100.4"))
        client.get("/health", headers=from_address("198.51.100.5"))
        refused = client.get("/health", headers=from_address("198.51.100.6"))
        assert_limited(refused)
        assert "`203.0.113.9`" in refused.json()["message"]


def test_trusted_proxies_follow_the_setting(tmp_path: Path) -> None:
    # No trusted proxy: even loopback's X-Forwarded-For is not believed.
    with app_client(tmp_path, trusted_proxies="", rate_limit_per_address="1/m") as client:
        client.get("/health", headers=from_address("198.51.100.7"))
        assert_limited(client.get("/health", headers=from_address("198.51.100.8")))
    # A network: its members are proxies; the client is the last untrusted hop.
    peer = ("10.1.2.3", 1)
    settings = {"trusted_proxies": "10.0.0.0/8", "rate_limit_per_address": "1/m"}
    with app_client(tmp_path, peer, **settings) as client:
        assert client.get("/health", headers=from_address("198.51.100.9, 10.0.0.7")).is_success
        refused = client.get("/health", headers=from_address("1.1.1.1, 198.51.100.9, 10.0.0.8"))
        assert "`198.51.100.9`" in refused.json()["message"]
    # `*`, alone or in a list: every peer is a proxy; the first address is the client.
    settings = {"trusted_proxies": "10.0.0.0/8, *", "rate_limit_per_address": "1/m"}
    with app_client(tmp_path, ("203.0.113.1", 1), **settings) as client:
        assert client.get("/health", headers=from_address("198.51.100.10, 1.1.1.1")).is_success
        refused = client.get("/health", headers=from_address("198.51.100.10"))
        assert "`198.51.100.10`" in refused.json()["message"]


def _search_key(client: TestClient, indexes: list[str] | None = None) -> dict[str, Any]:
    body = {"actions": ["search"], "indexes": indexes or ["*"], "expiresAt": None}
    created = client.post("/keys", json=body, headers=MASTER)
    assert created.status_code == 201, created.text
    return created.json()


def test_each_api_key_has_its_own_bucket_and_the_master_key_none(tmp_path: Path) -> None:
    with app_client(tmp_path, rate_limit_per_key="2/m burst 2") as client:
        first, second = _search_key(client), _search_key(client)
        one = {"Authorization": f"Bearer {first['key']}"}
        for _ in range(2):
            assert client.post("/indexes/x/search", json={}, headers=one).status_code == 404
        refused = client.post("/indexes/x/search", json={}, headers=one)
        assert_limited(refused)
        assert f"API key `{first['uid']}`" in refused.json()["message"]
        assert first["key"] not in refused.text
        two = {"Authorization": f"Bearer {second['key']}"}
        assert client.post("/indexes/x/search", json={}, headers=two).status_code == 404
        for _ in range(5):
            assert client.get("/version", headers=MASTER).is_success
        # A tenant token signed by the exhausted key has a bucket of its own.
        token = jwt.encode({"apiKeyUid": first["uid"], "searchRules": ["*"]}, first["key"])
        tenant = {"Authorization": f"Bearer {token}"}
        assert client.post("/indexes/x/search", json={}, headers=tenant).status_code == 404


def test_failed_authentications_lock_the_address_before_any_key_check(tmp_path: Path) -> None:
    with app_client(tmp_path, rate_limit_auth_failures="3/m burst 3") as client:
        here = from_address("198.51.100.20")
        for wrong in ("Bearer nope", "Basic abc", f"Bearer {'0' * 64}"):
            refused = client.get("/indexes", headers={**here, "Authorization": wrong})
            assert refused.status_code == 403
        # Out of tokens: even the right key is refused, so a guess tells nothing.
        locked = client.get("/indexes", headers={**here, **MASTER})
        assert_limited(locked, "too_many_authentication_failures")
        assert 15 <= int(locked.headers["retry-after"]) <= 20
        assert client.get("/indexes", headers=from_address("198.51.100.21", **MASTER)).is_success


def test_keys_in_use_keep_working_from_a_locked_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A key verified moments ago skips the gate: a 256-bit key is never a guess. (The
    # cache lasts a second; a minute here, so a slow machine cannot make this flaky.)
    monkeypatch.setattr("sift.ops.keys.KEY_CACHE_S", 60.0)
    with app_client(tmp_path, rate_limit_auth_failures="1/m") as client:
        key = _search_key(client)
        here = from_address("198.51.100.23")
        search = {**here, "Authorization": f"Bearer {key['key']}"}
        token = jwt.encode({"apiKeyUid": key["uid"], "searchRules": ["*"]}, key["key"])
        tenant = {**here, "Authorization": f"Bearer {token}"}
        assert client.post("/indexes/x/search", json={}, headers=search).status_code == 404
        wrong = {**here, "Authorization": "Bearer nope"}
        assert client.get("/indexes", headers=wrong).status_code == 403
        locked = client.get("/indexes", headers={**here, **MASTER})
        assert_limited(locked, "too_many_authentication_failures")
        assert client.post("/indexes/x/search", json={}, headers=search).status_code == 404
        assert client.post("/indexes/x/search", json={}, headers=tenant).status_code == 404


def test_what_is_not_a_failed_authentication(tmp_path: Path) -> None:
    with app_client(tmp_path, rate_limit_auth_failures="1/m") as client:
        key = _search_key(client, ["books"])
        here = from_address("198.51.100.22")
        for _ in range(3):
            # No key at all, or a real key beyond its rights: not a guess.
            assert client.get("/indexes", headers=here).status_code == 401
            beyond = client.get("/keys", headers={**here, "Authorization": f"Bearer {key['key']}"})
            assert beyond.status_code == 403
        assert client.get("/indexes", headers={**here, **MASTER}).is_success


def test_failed_dashboard_sign_ins_count_and_are_throttled(tmp_path: Path) -> None:
    with app_client(tmp_path, rate_limit_auth_failures="2/m burst 2") as client:

        def sign_in(key: str) -> Any:
            form = client.get("/admin/login", headers=from_address("198.51.100.30"))
            csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            return client.post(
                "/admin/login",
                data={"csrf": csrf, "key": key},
                headers=from_address("198.51.100.30"),
                follow_redirects=False,
            )

        assert sign_in("wrong-1").status_code == 401
        assert sign_in("wrong-2").status_code == 401
        locked = sign_in(MASTER_KEY)
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1
        assert "Too many failed authentications" in locked.text
        # The API from that address is locked too: one budget per address.
        assert_limited(
            client.get("/indexes", headers=from_address("198.51.100.30", **MASTER)),
            "too_many_authentication_failures",
        )


def test_limits_off_change_nothing(tmp_path: Path) -> None:
    settings = {"rate_limit_auth_failures": "off"}
    with app_client(tmp_path, **settings) as client:
        wrong = {"Authorization": "Bearer nope"}
        for _ in range(30):
            assert client.get("/indexes", headers=wrong).status_code == 403
        assert client.get("/indexes", headers=MASTER).is_success


@pytest.fixture
def redis_url() -> Iterator[str]:
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {url}: {exc.__class__.__name__}")
    yield url


@pytest.mark.redis
def test_buckets_are_shared_through_redis(tmp_path: Path, redis_url: str) -> None:
    import redis

    prefix = f"sift-test-{uuid.uuid4().hex}"  # this test's keys only; nothing else touched
    settings = {"redis_url": redis_url, "redis_prefix": prefix}
    try:
        with (
            app_client(tmp_path / "a", rate_limit_per_address="3/m burst 3", **settings) as a,
            app_client(tmp_path / "b", rate_limit_per_address="3/m burst 3", **settings) as b,
        ):
            here = from_address("198.51.100.40")
            assert a.get("/health", headers=here).is_success
            assert b.get("/health", headers=here).is_success
            assert a.get("/health", headers=here).is_success
            assert_limited(b.get("/health", headers=here))
            assert_limited(a.get("/health", headers=here))
        stored = redis.Redis.from_url(redis_url).keys(f"{prefix}:*")
        assert stored and all(b"198.51.100.40" in key for key in stored)
    finally:
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)


def test_without_redis_the_process_counts_on_its_own(tmp_path: Path) -> None:
    # A Redis that refuses connections: requests still go through, and are still limited.
    settings = {"redis_url": "redis://127.0.0.1:1/0", "rate_limit_per_address": "2/m burst 2"}
    with app_client(tmp_path, **settings) as client:
        here = from_address("198.51.100.50")
        assert client.get("/health", headers=here).is_success
        assert client.get("/health", headers=here).is_success
        assert_limited(client.get("/health", headers=here))
