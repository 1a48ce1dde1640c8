"""`sift serve` migrates in a child process: the server's own process never loads Alembic."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sift.storage.child_migration import migrate_in_child
from sift.storage.database import HEAD_REVISION, Database
from tests.conftest import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without any table yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/data/sift.db"
        return
    server = request.getfixturevalue("postgres_url")
    with fresh_postgres_database(server, "sift_test") as (_, _, url):
        yield url


def test_a_fresh_database_is_migrated_to_the_head_by_the_child(fresh_url: str) -> None:
    assert migrate_in_child(fresh_url)
    db = Database(fresh_url)
    try:
        assert db.current_revision() == HEAD_REVISION
    finally:
        db.dispose()
    assert migrate_in_child(fresh_url)  # at the head: nothing to start


def test_the_caller_never_imports_alembic(tmp_path: Path) -> None:
    # A fresh interpreter: this test process may have imported Alembic for other tests.
    check = (
        "import sys\n"
        "from sift.storage.child_migration import migrate_in_child\n"
        "from sift.storage.database import Database\n"
        f"url = 'sqlite:///{tmp_path}/sift.db'\n"
        "assert migrate_in_child(url)\n"
        "Database(url).migrate()  # what Services.build does next: finds the head\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))\n"
    )
    shown = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                           check=True)  # fmt: skip
    assert shown.stdout.strip() == "[]"


def test_a_failed_child_is_logged_and_left_to_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "executable", "false")  # a child that exits with status 1
    url = f"sqlite:///{tmp_path}/sift.db"
    assert not migrate_in_child(url)
    assert "failed (exit code 1)" in caplog.text
    db = Database(url)
    try:
        assert db.current_revision() is None  # the caller's own migrate() does it
    finally:
        db.dispose()


def test_a_database_that_cannot_be_opened_is_left_to_the_caller(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")  # no directory can be made under a file
    assert not migrate_in_child(f"sqlite:///{tmp_path}/file/data/sift.db")


SUPERVISOR = """
import sys
import uvicorn
import sift.server
from sift.config import load_config

config = load_config({"data_dir": DATA_DIR, "master_key": "k" * 24, "workers": 2}, environ={})
uvicorn.run = lambda *args, **kwargs: None  # the workers are not started here
sift.server.run(config)
names = {m.split(".")[0] for m in sys.modules} | set(sys.modules)
print(sorted(names & {"sqlalchemy", "alembic", "sift.app"}))
"""


def test_a_supervisor_of_several_workers_migrates_once_before_they_start(tmp_path: Path) -> None:
    # Each worker would otherwise load Alembic and queue at the migration lock on a first
    # start; the supervisor itself imports neither SQLAlchemy nor Alembic for it.
    code = SUPERVISOR.replace("DATA_DIR", repr(str(tmp_path / "data")))
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert shown.stdout.strip().splitlines()[-1] == "[]"
    db = Database(f"sqlite:///{tmp_path}/data/sift.db")
    try:
        assert db.current_revision() == HEAD_REVISION
    finally:
        db.dispose()
