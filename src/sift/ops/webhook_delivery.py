"""Sending finished tasks to webhooks.

After each batch it applies, the task worker hands the batch's task uids to
:meth:`WebhookDelivery.batch_finished`, which only queues them: the worker never
waits on a receiver. A sender thread then reads the tasks and the webhooks from the
database and POSTs the tasks, as the task API shows them, one JSON object per line
(``application/x-ndjson``), gzip-compressed (``Content-Encoding: gzip``), with
each webhook's own headers.

Delivery is best effort, as in Meilisearch: a timeout, a connection error, a 429 or
a 5xx is retried after 1 and 5 seconds, then given up and logged (the tasks stay
readable through ``/tasks``); other 4xx answers are not retried. At most
``MAX_PENDING`` batches wait; beyond that the oldest are dropped with a warning.
On shutdown the sender gets ``drain_s`` to finish what is queued.
"""

from __future__ import annotations

import gzip
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

import orjson

from sift.ops.webhooks import Webhook
from sift.storage import tasks as task_rows
from sift.storage import webhooks as webhook_rows
from sift.storage.database import Database
from sift.storage.tasks import TaskFilter
from sift.tasks.views import task_view

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("sift.ops.webhooks")

MAX_PENDING = 1000
RETRY_DELAYS_S = (1.0, 5.0)
TIMEOUT_S = 10.0


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class WebhookDelivery:
    def __init__(
        self,
        db: Database,
        reserved: Webhook | None = None,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.db = db
        self.reserved = reserved
        if client is not None:
            self._client = client
        self._sleep = sleep
        self._queue: queue.Queue[list[int] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        # Batches POSTed per outcome since start (`sift_webhook_deliveries` in /metrics).
        self.outcomes = {"delivered": 0, "failed": 0}

    @cached_property
    def _client(self) -> httpx.Client:
        """Made at the first delivery: httpx (~5 MiB of RSS with the rich and pygments its
        command line imports) stays out of a server without webhooks."""
        import httpx

        return httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sift-webhooks", daemon=True)
        self._thread.start()

    def stop(self, drain_s: float = 5.0) -> None:
        self._stopping.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(drain_s)
        if "_client" in self.__dict__:
            self._client.close()

    def batch_finished(self, task_uids: Sequence[int]) -> None:
        """Called by the worker after a batch commits; returns at once."""
        if self._queue.qsize() >= MAX_PENDING:
            try:
                dropped = self._queue.get_nowait()
                log.warning("webhook queue full, batch dropped", extra={"tasks": dropped})
            except queue.Empty:
                pass
        self._queue.put(list(task_uids))

    def webhooks(self) -> list[Webhook]:
        with self.db.read() as conn:
            rows = webhook_rows.all_records(conn)
        made = [Webhook(r.uuid, r.url, r.headers) for r in rows]
        return ([self.reserved] if self.reserved else []) + made

    def _run(self) -> None:
        while True:
            uids = self._queue.get()
            if uids is None:
                return
            try:
                self.deliver(uids)
            except Exception:  # a bug here must not stop later deliveries
                log.exception("webhook delivery crashed")

    def deliver(self, task_uids: Sequence[int]) -> None:
        targets = self.webhooks()
        if not targets:
            return
        with self.db.read() as conn:  # one query for the batch, in uid order
            flt = TaskFilter(uids=list(task_uids))
            tasks, _, _ = task_rows.query(conn, flt, len(task_uids), None, reverse=True)
        if not tasks:
            return
        body = gzip.compress(b"".join(orjson.dumps(task_view(t)) + b"\n" for t in tasks))
        for webhook in targets:
            self._post(webhook, body, [t.uid for t in tasks])

    def _post(self, webhook: Webhook, body: bytes, uids: list[int]) -> None:
        headers = {
            **webhook.headers,
            "Content-Type": "application/x-ndjson",
            "Content-Encoding": "gzip",
        }
        # Header values are never logged: they usually carry the receiver's secret.
        where = {"webhook": webhook.uuid, "tasks": uids}
        import httpx

        for attempt, delay in enumerate((0.0, *RETRY_DELAYS_S)):
            if delay:
                if self._stopping.is_set():
                    break
                self._sleep(delay)
            try:
                status = self._client.post(webhook.url, content=body, headers=headers).status_code
            except httpx.HTTPError as exc:
                log.warning(
                    "webhook delivery failed",
                    extra={**where, "attempt": attempt + 1, "error": exc.__class__.__name__},
                )
                continue
            if 200 <= status < 300:
                self.outcomes["delivered"] += 1
                return
            log.warning(
                "webhook answered an error",
                extra={**where, "attempt": attempt + 1, "status": status},
            )
            if not _retryable(status):
                break
        self.outcomes["failed"] += 1
