"""Reading rules for the API, and the two task kinds that change them.

``dsrUpdate`` creates, merges or deletes one rule; ``dsrClear`` deletes them all (both
Meilisearch's task types). They run in the worker's batch transaction like every task,
so a rule change is committed with its task's outcome and followed by every node
(sift.tasks.worker calls the rule book's ``invalidate`` once the batch is committed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy.engine import Connection

from sift.errors import SiftError
from sift.rules.matching import query_words
from sift.rules.model import merged
from sift.storage import search_rules as rule_rows
from sift.tasks.views import rfc3339

UPDATE: Final = "dsrUpdate"
CLEAR: Final = "dsrClear"
TASK_TYPES: Final = (UPDATE, CLEAR)


def get(conn: Connection, uid: str) -> dict[str, Any]:
    rule = rule_rows.get(conn, uid)
    if rule is None:
        raise SiftError(f"Dynamic search rule `{uid}` not found.", "dynamic_search_rule_not_found")
    return rule


def listing(conn: Connection, offset: int, limit: int, query: str | None,
            active: bool | None) -> dict[str, Any]:
    """``POST /dynamic-search-rules``: rules by uid, filtered, one page of them.

    ``query`` keeps the rules whose uid, description or query words contain every word of
    it (case and accents aside)."""
    rules = rule_rows.all_rules(conn)
    if active is not None:
        rules = [r for r in rules if bool(r.get("active", True)) == active]
    wanted = set(query_words(query))
    if wanted:
        def text(rule: dict[str, Any]) -> set[str]:
            words = ((rule.get("conditions") or {}).get("query") or {}).get("words")
            return set(query_words(" ".join(
                s for s in (rule["uid"], rule.get("description"), words) if s)))
        rules = [r for r in rules if wanted <= text(r)]
    return {"results": rules[offset:offset + limit], "offset": offset, "limit": limit,
            "total": len(rules)}


def apply_update(conn: Connection, details: dict[str, Any], params: dict[str, Any],
                 when: datetime) -> dict[str, Any]:
    """One ``dsrUpdate`` task: ``params`` holds ``uid`` and either the validated
    ``patch`` or ``delete: true``; ``when`` (the task's start) becomes ``lastUpdatedAt``."""
    uid = params["uid"]
    if params.get("delete"):
        rule_rows.delete(conn, uid)  # a rule that does not exist: nothing to do, no error
        return details
    rule = merged(uid, rule_rows.get(conn, uid), params["patch"], rfc3339(when) or "")
    rule_rows.put(conn, rule, when)
    return details


def apply_clear(conn: Connection, details: dict[str, Any]) -> dict[str, Any]:
    return {**details, "deletedRules": rule_rows.clear(conn)}
