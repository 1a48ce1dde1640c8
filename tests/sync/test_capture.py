"""Snapshot then change capture against the real MariaDB and PostgreSQL servers:
inserts, updates, deletes, soft deletes, row filters, TRUNCATE, ALTER TABLE, bad rows."""

from __future__ import annotations

from pathlib import Path

from tests.sync.conftest import SourceDB, documents, eventually, sync_client

PRODUCTS = """
CREATE TABLE products (
  id INTEGER PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  price DECIMAL(10, 2),
  attrs {json},
  active BOOLEAN NOT NULL DEFAULT TRUE,
  deleted BOOLEAN NOT NULL DEFAULT FALSE,
  secret VARCHAR(50),
  updated_at TIMESTAMP{ts_default}
)
"""


def create_products(db: SourceDB) -> None:
    if db.kind == "mysql":
        db.execute(PRODUCTS.format(json="JSON", ts_default=" NULL"))
    else:
        db.execute(PRODUCTS.format(json="JSONB", ts_default=""))


TABLES = """
[[sources.tables]]
table = "products"
index = "products"
primary_key = "id"
exclude = ["secret"]
rename = { name = "title" }
soft_delete = "deleted"
where = "active"
"""


def test_snapshot_then_changes(source: SourceDB, tmp_path: Path) -> None:
    create_products(source)
    insert = ("INSERT INTO products (id, name, price, attrs, active, deleted, secret, updated_at) "
              "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)")  # fmt: skip
    source.execute(insert, (1, "Dune", "9.50", '{"pages": 412}', True, False, "x",
                            "2024-03-01 12:00:00"))  # fmt: skip
    source.execute(insert, (2, "Emma", "5.00", None, True, False, "y", None))
    source.execute(insert, (3, "Hidden", "1.00", None, False, False, "z", None))
    with sync_client(tmp_path, source.toml(TABLES)) as client:
        docs = eventually(lambda: len(documents(client, "products")) == 2 and
                          documents(client, "products"))  # fmt: skip
        assert docs["1"] == {"id": 1, "title": "Dune", "price": 9.5, "attrs": {"pages": 412},
                             "active": True, "deleted": False,
                             "updated_at": "2024-03-01T12:00:00Z"}  # fmt: skip
        assert "3" not in docs  # filtered out by `where`

        source.execute(insert, (4, "Ivanhoe", "7.25", '{"tags": ["a"]}', True, False, "s",
                                None))  # fmt: skip
        source.execute("UPDATE products SET name = %s WHERE id = %s", ("Dune Messiah", 1))
        source.execute("DELETE FROM products WHERE id = %s", (2,))
        source.execute("UPDATE products SET deleted = TRUE WHERE id = %s", (4,))
        source.execute("UPDATE products SET active = TRUE WHERE id = %s", (3,))

        def settled() -> dict:
            docs = documents(client, "products")
            assert set(docs) == {"1", "3"}
            assert docs["1"]["title"] == "Dune Messiah"
            return docs

        eventually(settled)
        status = client.get("/sources/src").json()
        assert status["state"] == "streaming"
        assert status["rowsApplied"] >= 7



def test_postgres_triggers_capture(postgres_source: SourceDB, tmp_path: Path) -> None:
    """The fallback for servers without logical replication: same behaviour."""
    create_products(postgres_source)
    insert = "INSERT INTO products (id, name, price, active) VALUES (%s, %s, %s, %s)"
    postgres_source.execute(insert, (1, "Dune", "9.50", True))
    postgres_source.execute(insert, (2, "Emma", "5.00", True))
    toml = postgres_source.toml(TABLES, capture='"triggers"')
    with sync_client(tmp_path, toml) as client:
        eventually(lambda: set(documents(client, "products")) == {"1", "2"})
        postgres_source.execute(insert, (3, "Ivanhoe", "7.25", True))
        postgres_source.execute("UPDATE products SET id = 10 WHERE id = 1")
        postgres_source.execute("UPDATE products SET active = FALSE WHERE id = 2")
        eventually(lambda: set(documents(client, "products")) == {"3", "10"})
        postgres_source.execute("TRUNCATE products")
        postgres_source.execute(insert, (5, "After", "1", True))
        eventually(lambda: set(documents(client, "products")) == {"5"})
        assert postgres_source.execute("SELECT count(*) FROM sift_sync.changes")[0][0] == 0


def test_truncate_alter_and_a_bad_row(source: SourceDB, tmp_path: Path) -> None:
    source.execute("CREATE TABLE items (id VARCHAR(40) PRIMARY KEY, name TEXT)")
    source.execute("INSERT INTO items VALUES ('a', 'first'), ('b', 'second')")
    tables = '[[sources.tables]]\ntable = "items"\nindex = "items"\n'
    with sync_client(tmp_path, source.toml(tables)) as client:
        eventually(lambda: set(documents(client, "items")) == {"a", "b"})
        source.execute("TRUNCATE TABLE items")
        eventually(lambda: documents(client, "items") == {})
        source.execute("ALTER TABLE items ADD COLUMN color VARCHAR(20)")
        source.execute("INSERT INTO items VALUES ('c', 'third', 'red')")
        # Not a valid document id: recorded, and the stream goes on.
        source.execute("INSERT INTO items VALUES ('not valid!', 'bad', NULL)")
        source.execute("INSERT INTO items VALUES ('d', 'fourth', 'blue')")
        docs = eventually(lambda: set(documents(client, "items")) == {"c", "d"}
                          and documents(client, "items"))  # fmt: skip
        assert docs["c"] == {"id": "c", "name": "third", "color": "red"}
        detail = client.get("/sources/src").json()
        assert detail["rowErrors"] == 1
        assert detail["recentRowErrors"][0]["table"].endswith("items")
        assert "invalid" in detail["recentRowErrors"][0]["message"].lower()


def test_only_the_lease_holder_reads_a_source(mysql_source: SourceDB, tmp_path: Path) -> None:
    mysql_source.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    mysql_source.execute("INSERT INTO items VALUES (1, 'one')")
    toml = mysql_source.toml('[[sources.tables]]\ntable = "items"\nindex = "items"\n')
    with sync_client(tmp_path, toml) as first, sync_client(tmp_path, toml) as second:
        nodes = (first, second)
        eventually(lambda: sorted(n.get("/sources/src").json()["state"] for n in nodes)
                   == ["standby", "streaming"])  # fmt: skip
        mysql_source.execute("INSERT INTO items VALUES (2, 'two')")
        for node in nodes:
            eventually(lambda node=node: set(documents(node, "items")) == {"1", "2"})
        tasks = first.get("/tasks", params={"types": "documentAdditionOrUpdate"}).json()
        received = sum(t["details"]["receivedDocuments"] for t in tasks["results"])
        assert received == 2  # each row once, by one node


def test_several_tables_of_one_source(source: SourceDB, tmp_path: Path) -> None:
    source.execute("CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT)")
    source.execute("CREATE TABLE books (isbn VARCHAR(20) PRIMARY KEY, title TEXT, author INT)")
    source.execute("INSERT INTO authors VALUES (1, 'Herbert')")
    source.execute("INSERT INTO books VALUES ('isbn-1', 'Dune', 1)")
    tables = ('[[sources.tables]]\ntable = "authors"\nindex = "authors"\n'
              '[[sources.tables]]\ntable = "books"\nindex = "books"\nprimary_key = "isbn"\n'
              'rename = { author = "authorId" }\n')  # fmt: skip
    with sync_client(tmp_path, source.toml(tables)) as client:
        eventually(lambda: set(documents(client, "books", "isbn")) == {"isbn-1"})
        source.execute("INSERT INTO authors VALUES (2, 'Austen')")
        source.execute("INSERT INTO books VALUES ('isbn-2', 'Emma', 2)")
        eventually(lambda: set(documents(client, "authors")) == {"1", "2"})
        books = eventually(lambda: len(documents(client, "books", "isbn")) == 2
                           and documents(client, "books", "isbn"))  # fmt: skip
        assert books["isbn-2"] == {"isbn": "isbn-2", "title": "Emma", "authorId": 2}
        index = client.get("/indexes/books").json()
        assert index["primaryKey"] == "isbn"
