"""A real `sift serve` facing the internet: the master key off the command line, throttled
key guessing, and X-Forwarded-For believed from trusted proxies only."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.e2e.sift_process import ServerPool

pytestmark = pytest.mark.e2e
KEY = "a-master-key-that-lives-in-a-file"


def test_master_key_from_a_file_never_on_the_command_line(
    servers: ServerPool, tmp_path: Path
) -> None:
    key_file = tmp_path / "master-key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    server = servers.new(master_key=None)
    server.start("--master-key-file", str(key_file))
    command_line = Path(f"/proc/{server.pid}/cmdline").read_bytes()
    assert KEY.encode() not in command_line
    assert "--master-key shows the key" not in server.log_tail()
    right = httpx.get(f"{server.url}/indexes", headers={"Authorization": f"Bearer {KEY}"})
    assert right.status_code == 200
    wrong = httpx.get(f"{server.url}/indexes", headers={"Authorization": "Bearer not-it"})
    assert wrong.status_code == 403


def test_two_hundred_wrong_keys_are_throttled(servers: ServerPool) -> None:
    server = servers.new()
    server.start()  # default limits: 20 failed authentications a minute per address
    assert "--master-key shows the key" in server.log_tail()  # SiftProcess passes the flag
    statuses: list[int] = []
    retry_after: set[str] = set()
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for i in range(200):
            wrong = {"Authorization": f"Bearer wrong-{i}"}
            if i % 3 == 0:
                answer = client.get("/keys", headers=wrong)
            elif i % 3 == 1:
                answer = client.post("/indexes/x/search", json={"q": "a"}, headers=wrong)
            else:
                form = client.get("/admin/login")
                csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
                answer = client.post("/admin/login", data={"csrf": csrf, "key": f"wrong-{i}"})
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                retry_after.add(answer.headers["retry-after"])
        # Locked out: the right key from this address waits too, so guessing learns nothing.
        locked = client.get("/indexes", headers=server.headers)
    refused = [s for s in statuses[:20] if s not in (401, 403)]
    assert refused == [], statuses[:20]
    assert statuses[20:].count(429) >= 175, statuses
    assert retry_after and all(int(value) >= 1 for value in retry_after)
    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_authentication_failures"


def _limited_addresses(server_url: str, headers: dict[str, str]) -> list[str]:
    """The addresses named by the 429s of four requests, each forwarded for another client."""
    named = []
    for i in range(4):
        answer = httpx.get(
            f"{server_url}/version", headers={**headers, "X-Forwarded-For": f"198.51.100.{i}"}
        )
        if answer.status_code == 429:
            named.append(re.search(r"from `([^`]+)`", answer.json()["message"]).group(1))
    return named


def test_forwarded_for_follows_trusted_proxies(servers: ServerPool) -> None:
    untrusted = servers.new("untrusted")
    untrusted.start("--trusted-proxies", "", "--rate-limit-per-address", "2/m burst 2")
    # Not believed, even from loopback (uvicorn on its own trusted 127.0.0.1): all four
    # share the peer's bucket (which the start's /health polls may have emptied already).
    named = _limited_addresses(untrusted.url, untrusted.headers)
    assert len(named) >= 2 and set(named) == {"127.0.0.1"}
    trusted = servers.new("trusted")
    trusted.start("--rate-limit-per-address", "2/m burst 2")  # default: loopback proxies
    assert _limited_addresses(trusted.url, trusted.headers) == []
