"""Search rule rows (src/sift/rules): each rule stored whole, as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sift.storage.schema import search_rules


def _rule(row: sa.Row) -> dict[str, Any]:
    rule: dict[str, Any] = orjson.loads(row.rule)
    return rule


def get(conn: Connection, uid: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(search_rules).where(search_rules.c.uid == uid)).first()
    return _rule(row) if row else None


def put(conn: Connection, rule: dict[str, Any], updated_at: datetime) -> None:
    """Insert or replace the rule under its ``uid``."""
    values = {
        "rule": orjson.dumps(rule).decode(),
        "precedence": rule.get("precedence"),
        "active": bool(rule.get("active", True)),
        "updated_at": updated_at,
    }
    done = conn.execute(
        sa.update(search_rules).where(search_rules.c.uid == rule["uid"]).values(**values)
    )
    if done.rowcount == 0:
        conn.execute(sa.insert(search_rules).values(uid=rule["uid"], **values))


def delete(conn: Connection, uid: str) -> bool:
    return conn.execute(sa.delete(search_rules).where(search_rules.c.uid == uid)).rowcount > 0


def clear(conn: Connection) -> int:
    return int(conn.execute(sa.delete(search_rules)).rowcount or 0)


def all_rules(conn: Connection) -> list[dict[str, Any]]:
    """Every rule, by uid (the order of Meilisearch's list)."""
    rows = conn.execute(sa.select(search_rules).order_by(search_rules.c.uid))
    return [_rule(r) for r in rows]
