"""The running parts of one Sift node, built once and shared by the HTTP routes."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sift.catalog import IndexCatalog
from sift.cluster import Network, node_name
from sift.cluster.notify import RedisNotifier
from sift.cluster.origin import Origin, forwarded_before, record, with_origin
from sift.cluster.outbox import Outbox
from sift.config import Config
from sift.insights import Analytics, ClickModels, SuggestionsRefresher
from sift.ops.keys import KeyStore
from sift.ops.webhook_delivery import WebhookDelivery
from sift.ops.webhooks import reserved
from sift.rules import RuleBook
from sift.semantic import service as semantic
from sift.storage import tasks as task_rows
from sift.storage.database import Database
from sift.storage.tasks import TaskRecord
from sift.sync import SyncManager, parse_sources
from sift.tasks import memory
from sift.tasks.payload import iter_documents, ndjson_chunks
from sift.tasks.worker import Worker, WorkerContext

log = logging.getLogger("sift")


@dataclass
class Services:
    config: Config
    db: Database
    catalog: IndexCatalog
    keys: KeyStore
    worker: Worker
    webhooks: WebhookDelivery
    network: Network
    rules: RuleBook
    outbox: Outbox
    notifier: RedisNotifier | None = None
    analytics: Analytics | None = None
    sync: SyncManager | None = None
    suggestions: SuggestionsRefresher | None = None
    clicks: ClickModels | None = None
    started_at: float = field(default_factory=time.time)

    @classmethod
    def build(cls, config: Config) -> Services:
        db = Database(config.resolved_database_url, name=f"sift {node_name()}")
        db.migrate()
        # Vector graphs are derived state, like the search indexes: a cache beside the data.
        semantic.configure(Path(config.data_dir).resolve() / "vectors")
        network = Network(db, config.network_self, timeout=config.network_timeout)
        catalog = IndexCatalog(db)
        catalog.partition = network.partition()  # the shards this node holds
        network.on_change(lambda: catalog.request_partition(network.partition()))
        keys = KeyStore(db, config.master_key)
        if config.master_key:
            keys.ensure_defaults()
            keys.refresh()
        # The worker notes the last finished batch before the indexes load: a batch that
        # finishes meanwhile is loaded again by following (harmless), never skipped.
        worker = Worker(
            WorkerContext(
                db=db,
                catalog=catalog,
                index_defaults=config.index_defaults,
                batch_size=config.batch_size,
                dump_dir=Path(config.dump_dir or Path(config.data_dir) / "dumps"),
                snapshot_dir=Path(config.snapshot_dir or Path(config.data_dir) / "snapshots"),
                lease_timeout=config.lease_timeout,
                forwarder=network.forwarder,
            )
        )
        if not config.no_index_images:
            catalog.image_dir = Path(config.data_dir).resolve() / "images"
        catalog.rebuild(from_images=True)
        # The rows read and the batches indexed were freed: hand their pages back, as the
        # worker does after a batch (an idle restarted server runs no batch to do it).
        memory.release()
        webhooks = WebhookDelivery(
            db, reserved(config.task_webhook_url, config.task_webhook_authorization_header)
        )
        # The leader's writes owed to remotes go once their batch has committed, from
        # the worker-lease holder (cluster/outbox.py).
        outbox = Outbox(db, network.forwarder, lambda: worker.lease.held)
        network.on_change(outbox.notify)  # a /network change may be owed to the remotes

        def batch_finished(uids: list[int]) -> None:
            outbox.notify()
            webhooks.batch_finished(uids)

        worker.ctx.on_batch = batch_finished
        network.on_change(worker.notify)  # a change may have enqueued its documents' moves
        rules = RuleBook(db)
        worker.ctx.on_rules_change = rules.invalidate
        notifier = None
        if config.redis_url:
            notifier = RedisNotifier(config.redis_url, worker.notify, config.redis_prefix)
            worker.ctx.on_change = notifier.publish
        analytics = Analytics(
            db,
            config.analytics_retention_days,
            enabled=not config.no_analytics,
            raw_user_ids=config.analytics_raw_user_ids,
        )
        services = cls(
            config, db, catalog, keys, worker, webhooks, network, rules, outbox, notifier,
            analytics,
        )
        if analytics.enabled:  # suggestions come from the search log: none without it
            services.suggestions = SuggestionsRefresher(
                db,
                services,
                lambda: worker.lease.held,
                config.query_suggestions_interval,
                flush=analytics.flush,
            )
            # Read-only derived state: every node builds its own from the shared events.
            services.clicks = ClickModels(
                db,
                catalog.click_ranked,
                analytics.retention,
                config.click_model_interval,
                flush=analytics.flush,
            )
        # Sources are read by the worker-lease holder only (docs/sync.md).
        services.sync = SyncManager(
            db,
            parse_sources(config.sections.get("sources")),
            services.wake_workers,
            lambda: worker.lease.held,
        )
        return services

    def start(self) -> None:
        if self.notifier is not None:
            self.notifier.start()
        self.webhooks.start()
        self.network.start()
        self.worker.start()
        self.outbox.start()
        if self.analytics is not None:
            self.analytics.start()
        if self.sync is not None:
            self.sync.start()
        if self.suggestions is not None:
            self.suggestions.start()
        if self.clicks is not None:
            self.clicks.start()

    def stop(self) -> None:
        if self.clicks is not None:
            self.clicks.stop()
        if self.suggestions is not None:
            self.suggestions.stop()
        if self.sync is not None:
            self.sync.stop()  # first: its last commit's tasks are then still processed
        if self.analytics is not None:
            self.analytics.stop()
        self.worker.stop()
        self.webhooks.stop()  # after the worker: its last batch is delivered too
        self.outbox.stop()  # what it did not send stays owed, sent by the next holder
        self.network.stop()
        if self.notifier is not None:
            self.notifier.stop()
        self.catalog.save_images()  # no batch runs any more: the indexes are final
        self.catalog.close()
        self.db.dispose()

    def wake_workers(self) -> None:
        """After a task is committed: this node's worker, and the others' (Redis)."""
        self.worker.notify()
        if self.notifier is not None:
            self.notifier.publish()

    def enqueue(
        self,
        type: str,
        index_uid: str | None,
        details: dict[str, Any] | None,
        params: dict[str, Any] | None = None,
        payload: Iterable[bytes] = (),
        origin: Origin | None = None,
    ) -> TaskRecord:
        """Commit a task (and its payload) durably, then wake the worker. A write the
        leader forwarded (``origin``) is enqueued once: a repeat gets the first task."""
        with self.db.write() as conn:
            if (first := forwarded_before(conn, origin)) is not None:
                return first
            task = task_rows.enqueue(self.db, conn, type, index_uid, details,
                                     with_origin(params, origin))  # fmt: skip
            record(conn, origin, task.uid)
            task_rows.add_payload(conn, task.uid, list(payload))
        self.wake_workers()
        return task

    def enqueue_documents(
        self,
        index_uid: str,
        fh: BinaryIO,
        fmt: str,
        params: dict[str, Any],
        csv_delimiter: str = ",",
        origin: Origin | None = None,
    ) -> TaskRecord:
        """Parse a payload while storing it as NDJSON chunks, in the task's transaction.

        A malformed payload raises before anything is committed. A write the leader
        forwarded (``origin``) is enqueued once: a repeat gets the first task.
        """
        with self.db.write() as conn:
            if (first := forwarded_before(conn, origin)) is not None:
                return first
            task = task_rows.enqueue(
                self.db,
                conn,
                "documentAdditionOrUpdate",
                index_uid,
                {"receivedDocuments": 0, "indexedDocuments": None},
                with_origin(params, origin),
            )
            record(conn, origin, task.uid)
            received = stored = 0
            for seq, (chunk, count) in enumerate(
                ndjson_chunks(iter_documents(fh, fmt, csv_delimiter))
            ):
                task_rows.add_payload(conn, task.uid, [chunk], first_seq=seq)
                received += count
                stored += len(chunk)
            task.details = {"receivedDocuments": received, "indexedDocuments": None}
            task_rows.set_details(conn, task.uid, task.details)
        if stored >= memory.TRIM_AFTER_PAYLOAD_BYTES:
            # Parsing and storing a large payload freed tens of MiB in this request
            # thread's arena, which the task worker (allocating in its own) never
            # reuses: handed back, they stay out of the import's peak (~50 MiB for
            # 200k products, docs/benchmarks/memory.md "Peak RSS of a 200k import").
            memory.release()
        self.wake_workers()
        return task
