"""`sift import`: straight into a data directory, and through a running server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from sift.cli import main
from sift.config import Config, load_config
from sift.ops.importer import ImportFailed, detect_format, import_file, ndjson_batches
from sift.storage import Database
from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows
from sift.storage import tasks as task_rows
from tests.e2e.sift_process import ServerPool


def _config(tmp_path: Path) -> Config:
    return load_config(
        {"data_dir": str(tmp_path / "data"), "config_file": str(tmp_path / "none.toml")},
        environ={},
    )


def _stored(config: Config, index: str) -> dict[str, dict[str, Any]]:
    """Every document of `index` as the database holds it, by id."""
    db = Database(config.resolved_database_url)
    try:
        with db.read() as conn:
            record = index_rows.get(conn, index)
            assert record is not None
            return {
                doc_id: orjson.loads(body)
                for batch in doc_rows.iter_all(conn, record.id)
                for doc_id, body in batch
            }
    finally:
        db.dispose()


def _import(config: Config, index: str, file: Path, **kwargs: Any) -> Any:
    options: dict[str, Any] = {
        "url": None,
        "api_key": None,
        "primary_key": None,
        "fmt": None,
        "batch_bytes": 16 << 20,
        "show_progress": False,
    }
    options.update(kwargs)
    return import_file(config, index, file, **options)


def test_formats_come_from_the_extension_unless_given() -> None:
    assert detect_format("a/b.JSON", None) == "json"
    assert detect_format("b.jsonl", None) == "ndjson"
    assert detect_format("b.ndjson", None) == "ndjson"
    assert detect_format("b.csv", None) == "csv"
    assert detect_format("b.txt", "csv") == "csv"
    with pytest.raises(Exception, match="--format"):
        detect_format("b.txt", None)


def test_batches_stay_near_the_byte_budget_and_keep_every_document() -> None:
    docs = [{"id": i, "text": "x" * 50} for i in range(100)]
    batches = list(ndjson_batches(iter(docs), 1000))
    assert all(len(body) <= 1000 for body, _ in batches)
    assert sum(count for _, count in batches) == 100
    lines = b"\n".join(body for body, _ in batches).split(b"\n")
    assert [orjson.loads(line) for line in lines] == docs
    # A document bigger than the budget still travels, alone.
    assert [c for _, c in ndjson_batches(iter([{"id": 1, "t": "y" * 5000}]), 100)] == [1]


def test_direct_import_of_json_ndjson_and_csv(tmp_path: Path) -> None:
    config = _config(tmp_path)
    json_file = tmp_path / "books.json"
    json_file.write_bytes(orjson.dumps([{"id": 1, "title": "Dune"}, {"id": 2, "title": "Emma"}]))
    result = _import(config, "books", json_file)
    assert result.documents == 2
    assert [t["status"] for t in result.tasks] == ["succeeded"]

    ndjson_file = tmp_path / "more.ndjson"
    ndjson_file.write_bytes(b'{"id": 2, "title": "Emma (2nd)"}\n\n{"id": 3, "title": "Ulysses"}\n')
    _import(config, "books", ndjson_file)

    csv_file = tmp_path / "more.txt"
    csv_file.write_text("id,title,year:number\n4,Middlemarch,1871\n")
    _import(config, "books", csv_file, fmt="csv")

    assert _stored(config, "books") == {
        "1": {"id": 1, "title": "Dune"},
        "2": {"id": 2, "title": "Emma (2nd)"},
        "3": {"id": 3, "title": "Ulysses"},
        "4": {"id": "4", "title": "Middlemarch", "year": 1871},
    }


def test_direct_import_leaves_no_task_behind_and_keeps_the_primary_key(tmp_path: Path) -> None:
    config = _config(tmp_path)
    file = tmp_path / "docs.ndjson"
    file.write_bytes(b'{"sku": "a-1", "ref_id": 7}\n{"sku": "b-2", "ref_id": 8}\n')
    _import(config, "shop", file, primary_key="sku")
    db = Database(config.resolved_database_url)
    try:
        with db.read() as conn:
            record = index_rows.get(conn, "shop")
            assert record is not None and record.primary_key == "sku"
            assert task_rows.status_counts(conn) == {"succeeded": 1}
    finally:
        db.dispose()
    assert set(_stored(config, "shop")) == {"a-1", "b-2"}


def test_direct_import_reports_the_failed_task(tmp_path: Path) -> None:
    config = _config(tmp_path)
    file = tmp_path / "bad.json"
    file.write_bytes(orjson.dumps([{"id": 1}, {"title": "no id"}]))
    with pytest.raises(ImportFailed, match="doesn't have a `id` attribute") as info:
        _import(config, "books", file, primary_key="id")
    assert "missing_document_id" in info.value.message


def test_a_malformed_file_commits_nothing(tmp_path: Path) -> None:
    config = _config(tmp_path)
    file = tmp_path / "broken.ndjson"
    file.write_bytes(b'{"id": 1}\n{"id": 2\n')
    with pytest.raises(ImportFailed, match="malformed"):
        _import(config, "books", file)
    db = Database(config.resolved_database_url)
    try:
        with db.read() as conn:
            assert task_rows.status_counts(conn) == {}
    finally:
        db.dispose()


def test_the_command_exits_non_zero_on_failure(tmp_path: Path) -> None:
    file = tmp_path / "bad.json"
    file.write_bytes(b'[{"title": "no id at all"}]')
    args = ["import", "books", str(file), "--data-dir", str(tmp_path / "data")]
    args += ["--config-file", str(tmp_path / "none.toml")]
    result = CliRunner().invoke(main, args, env={"SIFT_API_KEY": None})
    assert result.exit_code == 1, result.output
    assert "index_primary_key_no_candidate_found" in result.output


def test_a_csv_without_an_id_column_is_refused_and_creates_no_index(tmp_path: Path) -> None:
    config = _config(tmp_path)
    file = tmp_path / "products.csv"
    file.write_bytes(b"sku,title,price:number\nA-1,Lamp,59.90\n")
    with pytest.raises(ImportFailed, match="none ends in `id`") as info:
        _import(config, "products", file)
    assert "`sku`, `title`, `price`" in info.value.message and "--primary-key" in info.value.message
    db = Database(config.resolved_database_url)
    try:
        with db.read() as conn:
            assert index_rows.get(conn, "products") is None
            assert task_rows.status_counts(conn) == {}
    finally:
        db.dispose()
    # Named, the same file imports, its typed column a number.
    _import(config, "products", file, primary_key="sku")
    assert _stored(config, "products") == {"A-1": {"sku": "A-1", "title": "Lamp", "price": 59.9}}


def test_commands_on_the_database_list_only_its_settings() -> None:
    for command in ("import", "migrate", "restore"):
        shown = CliRunner().invoke(main, [command, "--help"]).output
        assert "--data-dir" in shown and "--database-url" in shown
        for server_only in ("--workers", "--search-threads", "--demo", "--ui-dir", "--port"):
            assert server_only not in shown, (command, server_only)
    assert "price:number" in CliRunner().invoke(main, ["import", "--help"]).output
    assert "--workers" in CliRunner().invoke(main, ["serve", "--help"]).output


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[ServerPool]:
    pool = ServerPool(tmp_path)
    try:
        yield pool
    finally:
        pool.kill_all()


def test_import_through_a_running_server_in_batches(tmp_path: Path, servers: ServerPool) -> None:
    server = servers.new()
    server.start()
    docs = [{"id": i, "title": f"book {i}", "tags": ["a", str(i % 7)]} for i in range(3000)]
    file = tmp_path / "books.jsonl"
    file.write_bytes(b"\n".join(orjson.dumps(d) for d in docs))
    common: dict[str, Any] = {"url": server.url, "api_key": server.master_key}

    result = _import(_config(tmp_path), "books", file, batch_bytes=20_000, **common)
    assert result.documents == 3000
    assert len(result.tasks) > 5  # ~140 KB of NDJSON in batches of 20 KB
    assert {t["status"] for t in result.tasks} == {"succeeded"}
    with server.client() as client:
        listing = client.get("/indexes/books/documents", params={"limit": 5000}).json()
    assert listing["total"] == 3000
    assert listing["results"] == docs

    # A failing task is reported with the server's own message.
    with pytest.raises(ImportFailed, match="already has a primary key") as info:
        _import(_config(tmp_path), "books", file, primary_key="title", **common)
    assert "index_primary_key_already_exists" in info.value.message

    # So is a refused request (a wrong key), before anything is enqueued.
    with pytest.raises(ImportFailed, match="refused a batch with 403"):
        _import(_config(tmp_path), "books", file, url=server.url, api_key="wrong-key")
