from __future__ import annotations

from pathlib import Path

import pytest

from sift.config import load_config
from sift.sync import parse_sources

MINIMAL = {
    "name": "shop",
    "url": "mysql://sift:secret@db.internal:3306/shop",
    "tables": [{"table": "products", "index": "products", "primary_key": "id"}],
}


def test_sift_toml_accepts_sources_and_still_refuses_unknown_keys(tmp_path: Path) -> None:
    toml = tmp_path / "sift.toml"
    toml.write_text('port = 1234\n[[sources]]\nname = "shop"\nurl = "mysql://a@b/c"\n'
                    '[[sources.tables]]\ntable = "t"\nindex = "t"\n')  # fmt: skip
    config = load_config({"config_file": str(toml)}, environ={})
    assert config.port == 1234
    assert parse_sources(config.sections["sources"])[0].tables[0].index == "t"
    toml.write_text("sourcez = 1\n")
    with pytest.raises(ValueError, match="unknown settings sourcez"):
        load_config({"config_file": str(toml)}, environ={})


def test_defaults_and_redaction() -> None:
    (source,) = parse_sources([MINIMAL], environ={})
    assert (source.kind, source.capture, source.slot) == ("mysql", "binlog", "sift_shop")
    assert source.redacted_url == "mysql://sift:***@db.internal:3306/shop"
    assert "secret" not in repr(source.redacted_url)
    assert source.tables[0].columns is None  # every column, new ones included
    (pg,) = parse_sources([{**MINIMAL, "url": "postgresql://u@h/db"}], environ={})
    assert pg.capture == "logical" and pg.tables[0].table == "public.products"


def test_passwords_from_the_environment() -> None:
    raw = {**MINIMAL, "url": "mysql://sift:${SHOP_PW}@db/shop"}
    (source,) = parse_sources([raw], environ={"SHOP_PW": "p@ss/word"})
    assert source.url.password == "p@ss/word"
    (source,) = parse_sources([{**MINIMAL, "url": "mysql://sift@db/shop",
                                "password_env": "PW"}], environ={"PW": "x"})  # fmt: skip
    assert source.url.password == "x"
    with pytest.raises(ValueError, match="SHOP_PW is not set"):
        parse_sources([raw], environ={})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "Shop!"}, "needs a `name`"),
        ({"url": "sqlite:///x.db"}, "mysql:// or postgresql://"),
        ({"capture": "triggers"}, "capture `triggers` is not one of binlog"),
        ({"tables": []}, "at least one"),
        ({"tables": [{"table": "t", "index": "bad uid!"}]}, "valid index uid"),
        ({"tables": [{"table": "t", "index": "t", "types": {"c": "money"}}]}, "money is not"),
        ({"tables": [{"table": "t", "index": "t", "exclude": ["id"]}]}, "primary_key"),
        ({"tables": [{"table": "t", "index": "t", "colour": 1}]}, "unknown keys colour"),
        ({"snapshot_batch": 0}, "snapshot_batch"),
    ],
)
def test_mistakes_name_the_source_and_the_key(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_sources([{**MINIMAL, **change}], environ={})


def test_two_tables_may_not_feed_one_index() -> None:
    other = {**MINIMAL, "name": "blog"}
    with pytest.raises(ValueError, match="fed by two tables"):
        parse_sources([MINIMAL, other], environ={})
