"""The storage contract runs once per database: SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from sift.catalog import IndexCatalog
from sift.cluster import Network
from sift.cluster.outbox import Outbox
from sift.ops.webhook_delivery import WebhookDelivery
from sift.rules import RuleBook
from sift.services import Services
from sift.storage import Database
from sift.tasks.worker import Worker, WorkerContext
from tests.conftest import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path}/sift.db")
        database.migrate()
        yield database
        database.dispose()
        return
    with fresh_postgres_database(request.getfixturevalue("postgres_url"), "sift_test") as (
        _, _, url,
    ):
        database = Database(url)
        database.migrate()
        try:
            yield database
        finally:
            database.dispose()


def worker_node(db: Database) -> Services:
    """What `sift serve` builds, minus HTTP: a catalog loaded from SQL and a worker that
    holds the lease (its loop not started: tests call `worker.run_once()`)."""
    catalog = IndexCatalog(db)
    catalog.rebuild()
    worker = Worker(WorkerContext(db=db, catalog=catalog, index_defaults="sift", batch_size=100))
    network = Network(db)
    outbox = Outbox(db, network.forwarder, lambda: False)  # no remotes in these tests
    services = Services(None, db, catalog, None, worker, WebhookDelivery(db), network,  # type: ignore[arg-type]
                        RuleBook(db), outbox)
    worker.ctx.on_rules_change = services.rules.invalidate
    assert worker._become_leader()
    return services


def depose(db: Database) -> None:
    """Free the worker lease for another node while its holder lives on, unaware: the lock
    file deleted under it (SQLite), its lease session terminated (PostgreSQL, as a network
    blip or an idle-connection reaper does)."""
    if db.is_sqlite:
        Path(db.url.split("///", 1)[-1]).with_suffix(".worker.lock").unlink()
        return
    with db.engine.connect() as conn:
        conn.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name LIKE 'sift-lease %'"
        ))  # fmt: skip
        conn.commit()
