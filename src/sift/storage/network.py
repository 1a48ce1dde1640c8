"""The network row: the /network topology as JSON, the row's revision (a counter that
watchers compare) and the network's version (Meilisearch's UUID, shown by GET /network)."""

from __future__ import annotations

import uuid
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
    version: int  # the row's revision: grows by one with each write
    network_version: str  # Meilisearch's `version`: a UUID each change of the network replaces


def new_version() -> str:
    """A version for a network that changed (random: two leaders never draw the same)."""
    return str(uuid.uuid4())


def version(conn: Connection) -> int:
    """The row's version alone: the cheap check of whether anything changed."""
    return int(conn.execute(sa.select(network.c.version).where(ROW)).scalar_one())


def read(conn: Connection, for_update: bool = False) -> NetworkRow:
    query = sa.select(network).where(ROW)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()  # two PATCHes on two nodes apply one after the other
    row = conn.execute(query).one()
    # Drawn by the migration that added it; a row written by an older Sift since then
    # cannot exist (the schema is migrated before any node starts), but a null reads as
    # the nil UUID rather than failing every GET /network.
    return NetworkRow(orjson.loads(row.topology), int(row.version),
                      row.network_version or str(uuid.UUID(int=0)))  # fmt: skip


def write(conn: Connection, seen: NetworkRow, topology: dict[str, Any],
          network_version: str) -> int:  # fmt: skip
    """Store a new state over ``seen`` (read in the same transaction), under the network
    version ``network_version``; the row's new revision."""
    conn.execute(
        sa.update(network)
        .where(ROW)
        .values(
            topology=orjson.dumps(topology).decode(),
            version=seen.version + 1,
            network_version=network_version,
            updated_at=utcnow(),
        )
    )
    return seen.version + 1
