"""The network row: the /network topology as JSON and its version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.storage.database import utcnow
from sift.storage.schema import network

ROW = network.c.id == 1


@dataclass(frozen=True)
class NetworkRow:
    topology: dict[str, Any]
    version: int


def version(conn: Connection) -> int:
    """The row's version alone: the cheap check of whether anything changed."""
    return int(conn.execute(sa.select(network.c.version).where(ROW)).scalar_one())


def read(conn: Connection, for_update: bool = False) -> NetworkRow:
    query = sa.select(network).where(ROW)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()  # two PATCHes on two nodes apply one after the other
    row = conn.execute(query).one()
    return NetworkRow(orjson.loads(row.topology), int(row.version))


def write(conn: Connection, seen: NetworkRow, topology: dict[str, Any]) -> int:
    """Store a new state over ``seen`` (read in the same transaction); the new version."""
    conn.execute(
        sa.update(network)
        .where(ROW)
        .values(
            topology=orjson.dumps(topology).decode(),
            version=seen.version + 1,
            updated_at=utcnow(),
        )
    )
    return seen.version + 1
