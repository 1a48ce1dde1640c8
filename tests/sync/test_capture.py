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

