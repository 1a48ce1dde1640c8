"""Prometheus metrics: request counts and latency per route, tasks and index sizes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from starlette.concurrency import run_in_threadpool

from sift.http.auth import guard, services
from sift.http.request_metrics import RequestMetrics
from sift.http.schemas import doc
from sift.ops.keys import Principal
from sift.storage import tasks as task_rows

REGISTRY = CollectorRegistry()
REQUESTS = RequestMetrics(registry=REGISTRY)  # sift_http_requests_total, ..._duration_seconds
TASKS = Gauge("sift_tasks", "Tasks by status", ["status"], registry=REGISTRY)
DOCUMENTS = Gauge("sift_index_documents", "Documents per index", ["index"], registry=REGISTRY)
WEBHOOKS = Gauge(
    "sift_webhook_deliveries",
    "Batches of finished tasks this process POSTed to a webhook since it started, by outcome",
    ["outcome"],
    registry=REGISTRY,
)
NETWORK_PENDING = Gauge("sift_network_pending_writes", "Writes the leader owes each remote "
                        "with a database of its own (its outbox)", ["remote"],
                        registry=REGISTRY)  # fmt: skip

SYNC_STATES = ("new", "snapshot", "streaming", "reconnecting", "failed", "standby", "stopped")
SYNC_STATE = Gauge("sift_sync_state", "1 for the state each sync source is in",
                   ["source", "state"], registry=REGISTRY)  # fmt: skip
SYNC_LAG = Gauge("sift_sync_lag_seconds", "Age of the oldest source change not yet committed "
                 "to Sift", ["source"], registry=REGISTRY)  # fmt: skip
SYNC_LAG_ROWS = Gauge("sift_sync_lag_rows", "Source changes read but not yet committed to Sift",
                      ["source"], registry=REGISTRY)  # fmt: skip
SYNC_ROWS = Gauge("sift_sync_rows_applied", "Source rows committed to Sift as document tasks "
                  "(snapshot and changes)", ["source"], registry=REGISTRY)  # fmt: skip
SYNC_ERRORS = Gauge("sift_sync_row_errors", "Source rows that could not be converted (the "
                    "newest 100 are kept)", ["source"], registry=REGISTRY)  # fmt: skip

router = APIRouter(tags=["System"])


# Counts and times one request, on the event loop (sift/http/edge.py): the method itself,
# not a function calling it, one call less per request.
observe = REQUESTS.observe


@router.get("/metrics", summary="Prometheus metrics", **doc(str, answer_media="text/plain"))
async def metrics(request: Request, _: Principal = Depends(guard("metrics.get"))) -> Response:
    svc = services(request)

    def collect() -> None:
        with svc.db.read() as conn:
            counts = task_rows.status_counts(conn)
        for status in ("enqueued", "processing", "succeeded", "failed", "canceled"):
            TASKS.labels(status).set(counts.get(status, 0))
        for uid in svc.catalog.uids():
            index = svc.catalog.find(uid)
            if index is not None:
                DOCUMENTS.labels(uid).set(index.document_count())
        pending = svc.outbox.pending()
        for name in {*svc.network.topology.remotes, *pending}:
            NETWORK_PENDING.labels(name).set(pending.get(name, 0))
        for outcome, count in svc.webhooks.outcomes.items():
            WEBHOOKS.labels(outcome).set(count)
        for source in svc.sync.status() if svc.sync is not None else ():
            name = source["name"]
            for state in SYNC_STATES:
                SYNC_STATE.labels(name, state).set(1 if source["state"] == state else 0)
            SYNC_LAG.labels(name).set((source["lagMs"] or 0) / 1000)
            SYNC_LAG_ROWS.labels(name).set(source["lagRows"] or 0)
            SYNC_ROWS.labels(name).set(source["rowsApplied"])
            SYNC_ERRORS.labels(name).set(source["rowErrors"])

    await run_in_threadpool(collect)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
