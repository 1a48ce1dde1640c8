"""`sift sync --once`, `sift sync status` and `sift sync resnapshot` on real databases."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from sift.cli import main
from sift.storage import Database
from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows
from tests.sync.conftest import SourceDB

TABLES = '[[sources.tables]]\ntable = "books"\nindex = "books"\n'


def _ids(tmp_path: Path) -> set[str]:
    db = Database(f"sqlite:///{tmp_path / 'data' / 'sift.db'}")
    try:
        with db.read() as conn:
            record = index_rows.get(conn, "books")
            return set(doc_rows.all_ids(conn, record.id)) if record else set()
    finally:
        db.dispose()


def test_once_mirrors_the_table_each_time(source: SourceDB, tmp_path: Path) -> None:
    source.execute("CREATE TABLE books (id INTEGER PRIMARY KEY, title VARCHAR(100))")
    source.execute("INSERT INTO books VALUES (1, 'Dune'), (2, 'Emma'), (3, 'Ivanhoe')")
    config = tmp_path / "sift.toml"
    config.write_text(source.toml(TABLES))
    args = ["--data-dir", str(tmp_path / "data"), "--config-file", str(config)]
    runner = CliRunner()
    result = runner.invoke(main, ["sync", "--once", *args])
    assert result.exit_code == 0, result.output
    assert "3 rows" in result.output
    assert _ids(tmp_path) == {"1", "2", "3"}

    source.execute("DELETE FROM books WHERE id = 2")
    source.execute("INSERT INTO books VALUES (4, 'Persuasion')")
    result = runner.invoke(main, ["sync", "--once", *args])
    assert result.exit_code == 0, result.output
    assert "1 stale documents deleted" in result.output
    assert _ids(tmp_path) == {"1", "3", "4"}

    status = runner.invoke(main, ["sync", "status", *args])
    assert status.exit_code == 0, status.output
    assert status.output.startswith(f"src  {source.kind}/")
    assert "new" in status.output  # --once stores no position


def test_status_hides_the_password_and_resnapshot_resets(tmp_path: Path) -> None:
    config = tmp_path / "sift.toml"
    config.write_text('[[sources]]\nname = "shop"\nurl = "mysql://sift:${SHOP_PW}@db:3306/shop"\n'
                      + TABLES)  # fmt: skip
    args = ["--data-dir", str(tmp_path / "data"), "--config-file", str(config)]
    runner = CliRunner(env={"SHOP_PW": "hunter2-secret"})
    result = runner.invoke(main, ["sync", "status", *args])
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    result = runner.invoke(main, ["sync", "resnapshot", "nope", *args])
    assert result.exit_code != 0 and "no source named nope" in result.output
    result = runner.invoke(main, ["sync", "resnapshot", "shop", *args])
    assert result.exit_code == 0, result.output
