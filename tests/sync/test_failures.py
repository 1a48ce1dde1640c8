"""What happens when the source goes away, comes back, or loses Sift's position."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.sync.conftest import SourceDB, documents, eventually, sync_client
from tests.sync.servers import PrivateMariaDB, TcpProxy

pytestmark = pytest.mark.slow

TABLES = '[[sources.tables]]\ntable = "notes"\nindex = "notes"\n'


def _state(client) -> str:  # type: ignore[no-untyped-def]
    return client.get("/sources/src").json()["state"]


def test_postgres_down_then_back_loses_nothing(postgres_source: SourceDB,
                                               tmp_path: Path) -> None:  # fmt: skip
    postgres_source.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    postgres_source.execute("INSERT INTO notes VALUES (1, 'one')")
    port = int(postgres_source.url.rsplit(":", 1)[1].split("/")[0])
    proxy = TcpProxy(port)
    via_proxy = postgres_source.url.replace(f":{port}/", f":{proxy.port}/")
    toml = postgres_source.toml(TABLES).replace(postgres_source.url, via_proxy)
    try:
        with sync_client(tmp_path, toml) as client:
            eventually(lambda: set(documents(client, "notes")) == {"1"})
            eventually(lambda: _state(client) == "streaming")
            proxy.cut()
            postgres_source.execute("INSERT INTO notes VALUES (2, 'while down')")
            postgres_source.execute("UPDATE notes SET body = 'changed while down' WHERE id = 1")
            eventually(lambda: _state(client) == "reconnecting")
            assert client.get("/health").json()["sources"] == {"src": "reconnecting"}
            detail = client.get("/sources/src").json()
            assert detail["lastError"] and proxy.port and "password" not in detail["lastError"]
            proxy.restore()
            docs = eventually(lambda: documents(client, "notes").get("2") and
                              documents(client, "notes"), timeout=40)  # fmt: skip
            assert docs["1"]["body"] == "changed while down"
            eventually(lambda: _state(client) == "streaming")
    finally:
        proxy.close()


def test_postgres_slot_dropped_needs_a_resnapshot(postgres_source: SourceDB,
                                                  tmp_path: Path) -> None:  # fmt: skip
    postgres_source.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    postgres_source.execute("INSERT INTO notes VALUES (1, 'one')")
    toml = postgres_source.toml(TABLES)
    with sync_client(tmp_path, toml) as client:
        eventually(lambda: _state(client) == "streaming")
    postgres_source.execute("SELECT pg_drop_replication_slot('sift_src')")
    postgres_source.execute("INSERT INTO notes VALUES (2, 'two')")
    with sync_client(tmp_path, toml) as client:
        eventually(lambda: _state(client) == "failed")
        error = client.get("/sources/src").json()["lastError"]
        assert "slot sift_src no longer exists" in error and "resnapshot" in error
        assert client.post("/sources/src/resnapshot").status_code == 202
        eventually(lambda: set(documents(client, "notes")) == {"1", "2"})
        eventually(lambda: _state(client) == "streaming")


@pytest.fixture
def private_mariadb(tmp_path: Path) -> Iterator[PrivateMariaDB]:
    server = PrivateMariaDB(tmp_path / "mariadb")
    server.install()
    server.start()
    try:
        yield server
    finally:
        server.kill()


def _connect(server: PrivateMariaDB) -> pymysql.Connection:  # type: ignore[type-arg]
    return pymysql.connect(host="127.0.0.1", port=server.port, user="root", autocommit=True)


def test_mysql_restart_and_purged_binlog(private_mariadb: PrivateMariaDB,
                                         tmp_path: Path) -> None:  # fmt: skip
    def sql(statement: str) -> None:
        conn = _connect(private_mariadb)
        with conn.cursor() as cur:
            cur.execute(statement)
        conn.close()

    sql("CREATE DATABASE shop")
    sql("CREATE TABLE shop.notes (id INTEGER PRIMARY KEY, body TEXT)")
    sql("INSERT INTO shop.notes VALUES (1, 'one')")
    toml = (f'[[sources]]\nname = "src"\nurl = "{private_mariadb.url}/shop"\n' + TABLES)
    with sync_client(tmp_path / "sift", toml) as client:
        eventually(lambda: _state(client) == "streaming")
        private_mariadb.kill()
        eventually(lambda: _state(client) == "reconnecting")
        private_mariadb.start()
        sql("INSERT INTO shop.notes VALUES (2, 'after the restart')")
        eventually(lambda: set(documents(client, "notes")) == {"1", "2"}, timeout=60)
        eventually(lambda: _state(client) == "streaming")

    sql("INSERT INTO shop.notes VALUES (3, 'while Sift was stopped')")
    sql("FLUSH BINARY LOGS")
    conn = _connect(private_mariadb)
    with conn.cursor() as cur:
        def dump_threads() -> list:  # type: ignore[type-arg]
            cur.execute("SHOW PROCESSLIST")
            return [r for r in cur.fetchall() if "Binlog Dump" in str(r[4])]

        # A stopped Sift leaves no replica connection (which would keep its file).
        eventually(lambda: not dump_threads(), timeout=5)
        cur.execute("SHOW MASTER STATUS")
        newest = cur.fetchone()[0]

        def purged() -> bool:
            # MariaDB keeps a file until its binlog checkpoint moves past it (async).
            cur.execute(f"PURGE BINARY LOGS TO '{newest}'")
            cur.execute("SHOW BINARY LOGS")
            return [r[0] for r in cur.fetchall()] == [newest]

        eventually(purged, timeout=10)
    conn.close()
    with sync_client(tmp_path / "sift", toml) as client:
        eventually(lambda: _state(client) == "failed")
        assert "purged" in client.get("/sources/src").json()["lastError"]
        assert client.post("/sources/src/resnapshot").status_code == 202
        eventually(lambda: set(documents(client, "notes")) == {"1", "2", "3"})
        eventually(lambda: _state(client) == "streaming")
