"""POST /dumps and /snapshots through the ASGI app; a restored dump served again."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from sift.cli import main
from tests.conftest import MASTER_KEY, make_client, run_task, wait_task


def _books(client: TestClient) -> None:
    run_task(client, "POST", "/indexes/books/documents",
             json=[{"id": i, "title": f"The {w} book"} for i, w in enumerate(["red", "blue"])])
    run_task(client, "PATCH", "/indexes/books/settings", json={"filterableAttributes": ["id"]})


def test_dump_then_restore_serves_the_same_index(
    client: TestClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sift")  # as `sift serve` logs: every record is built
    _books(client)
    response = client.post("/dumps")
    assert response.status_code == 202 and response.json()["type"] == "dumpCreation"
    task = wait_task(client, response.json()["taskUid"])
    assert task["status"] == "succeeded", task
    dump_uid = task["details"]["dumpUid"]
    path = tmp_path / "data" / "dumps" / f"{dump_uid}.dump"
    assert path.is_file()
    assert any(getattr(r, "backup", None) == dump_uid for r in caplog.records)

    fresh = tmp_path / "fresh"
    result = CliRunner().invoke(
        main, ["restore", str(path), "--data-dir", str(fresh), "--config-file",
               str(tmp_path / "none.toml")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "restored 1 indexes, 2 documents" in result.output
    again = CliRunner().invoke(main, ["restore", str(path), "--data-dir", str(fresh)])
    assert again.exit_code != 0 and "already has indexes" in again.output

    with make_client(tmp_path / "fresh-run", data_dir=str(fresh), master_key=MASTER_KEY) as c:
        c.headers["Authorization"] = f"Bearer {MASTER_KEY}"
        hits = c.post("/indexes/books/search", json={"q": "blue", "filter": "id = 1"}).json()
        assert [h["title"] for h in hits["hits"]] == ["The blue book"]
        settings = c.get("/indexes/books/settings").json()
        assert settings["filterableAttributes"] == ["id"]
        # API keys come back with the same values under the same master key.
        old = {k["uid"]: k["key"] for k in client.get("/keys").json()["results"]}
        new = {k["uid"]: k["key"] for k in c.get("/keys").json()["results"]}
        assert old == new  # and the default keys are not created a second time


def test_snapshot_is_a_consistent_sqlite_copy(client: TestClient, tmp_path: Path) -> None:
    _books(client)
    task = run_task(client, "POST", "/snapshots")
    assert (task["status"], task["type"]) == ("succeeded", "snapshotCreation")
    (path,) = (tmp_path / "data" / "snapshots").glob("*.snapshot")
    assert path.name == f"{task['details']['snapshotUid']}.snapshot"
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone() == (2,)


def test_backups_need_their_actions(client: TestClient) -> None:
    key = client.post(
        "/keys", json={"actions": ["dumps.create"], "indexes": ["*"], "expiresAt": None}
    ).json()["key"]
    auth = {"Authorization": f"Bearer {key}"}
    assert client.post("/dumps", headers=auth).status_code == 202
    denied = client.post("/snapshots", headers=auth)
    assert denied.status_code == 403 and denied.json()["code"] == "invalid_api_key"


def test_a_backup_that_crashes_fails_its_task(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sift.ops import backups

    def broken(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(backups, "write_dump", broken)
    task = run_task(client, "POST", "/dumps")
    assert task["status"] == "failed" and task["error"]["code"] == "internal"
    assert "disk on fire" in task["error"]["message"]
