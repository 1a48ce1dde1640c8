"""Search rules in SQL (SQLite and PostgreSQL): the rows, the two task kinds, and every
node's rule cache following a change another node committed."""

from __future__ import annotations

from datetime import UTC, datetime

from sift.ops import experimental
from sift.rules import CLEAR, UPDATE, RuleBook
from sift.storage import Database
from sift.storage import search_rules as rule_rows
from sift.tasks.worker import Worker, WorkerContext
from tests.contract.conftest import worker_node

NOW = datetime(2026, 12, 5, 12, 0)
RULE = {"uid": "r1", "description": "é ✓", "precedence": 7, "active": False,
        "conditions": {"query": {"isEmpty": None, "words": "invoice"}, "time": None},
        "actions": {"pin": [{"id": "4", "position": 0, "indexUid": None}], "scale": []},
        "lastUpdatedAt": None}


def test_rows_round_trip_replace_delete_and_clear(db: Database) -> None:
    with db.write() as conn:
        rule_rows.put(conn, RULE, NOW)
        rule_rows.put(conn, {**RULE, "uid": "r0", "active": True}, NOW)
    with db.read() as conn:
        assert rule_rows.get(conn, "r1") == RULE
        assert [r["uid"] for r in rule_rows.all_rules(conn)] == ["r0", "r1"]
    with db.write() as conn:
        rule_rows.put(conn, {**RULE, "precedence": None}, NOW)  # same uid: replaced
        assert rule_rows.delete(conn, "r0") and not rule_rows.delete(conn, "r0")
    with db.read() as conn:
        assert rule_rows.get(conn, "r1")["precedence"] is None
        assert rule_rows.get(conn, "missing") is None
    with db.write() as conn:
        assert rule_rows.clear(conn) == 1
    with db.read() as conn:
        assert rule_rows.all_rules(conn) == []


def test_another_nodes_rule_change_reaches_this_nodes_searches(db: Database) -> None:
    leader = worker_node(db)
    other_db = Database(db.url)
    try:
        follower = RuleBook(other_db)
        seen_batch = leader.worker._seen_batch
        experimental.switch(db, {"dynamicSearchRules": True})
        assert follower.curation("books", "invoice") is None  # no rules yet: cached empty
        patch = {"conditions": RULE["conditions"], "actions": RULE["actions"]}
        leader.enqueue(UPDATE, None, {"ruleUid": "r1"}, {"uid": "r1", "patch": patch})
        assert leader.worker.run_once()
        assert leader.rules.curation("books", "an invoice") is not None  # the leader at once
        # The follower keeps its cache until its worker follows the batch.
        assert follower.curation("books", "an invoice") is None
        follower_worker = Worker(WorkerContext(
            db=other_db, catalog=leader.catalog, index_defaults="sift", batch_size=100,
            on_rules_change=follower.invalidate))
        follower_worker._seen_batch = seen_batch
        follower_worker.follow()
        found = follower.curation("books", "an invoice", datetime.now(UTC))
        assert found is not None and [p.id for p in found.pins] == ["4"]
        leader.enqueue(CLEAR, None, {"deletedRules": None}, {})
        assert leader.worker.run_once()
        follower_worker.follow()
        assert follower.curation("books", "an invoice") is None
    finally:
        other_db.dispose()
