"""A feature's state read alone (``enabled``) is what the whole list says of it."""

from pathlib import Path

import pytest
from sqlalchemy import event

from sift.config import load_config
from sift.ops import experimental
from sift.storage.database import Database


def _db(tmp_path: Path) -> Database:
    config = load_config({"data_dir": str(tmp_path), "config_file": str(tmp_path / "none.toml")},
                         environ={})  # fmt: skip
    db = Database(config.resolved_database_url)
    db.migrate()
    return db


def test_enabled_agrees_with_features(tmp_path: Path) -> None:
    db = _db(tmp_path)
    for wanted in ({}, {"network": True}, {"dynamicSearchRules": True, "network": False}):
        if wanted:
            experimental.switch(db, wanted)
        every = experimental.features(db)
        assert {name: experimental.enabled(db, name) for name in every} == every
    with pytest.raises(KeyError):
        experimental.enabled(db, "notAFeature")


def test_a_switch_is_read_with_one_query(tmp_path: Path) -> None:
    db = _db(tmp_path)
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: statements.append(statement))  # fmt: skip
    experimental.enabled(db, "dynamicSearchRules")
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    statements.clear()
    assert experimental.enabled(db, "metrics") is True  # fixed: no query
    assert statements == []
