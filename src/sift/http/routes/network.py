"""/network: the topology of the nodes a search may span (Meilisearch's network API).

Behind the `network` experimental feature, as in Meilisearch. The topology is stored in
the database (src/sift/cluster/network.py); on nodes sharing one database, a PATCH on any
node is seen by every other within a second; with a ``leader``, a PATCH on the leader is
also sent to every remote with a database of its own, and the other nodes refuse PATCHes
that do not come from it (except one naming a leader). ``POST /network/control`` takes the
messages that steer a topology change (cluster/control.py). ``/indexes/{uid}/search/statistics``
is the first round of a network search (cluster/statistics.py), asked by the node
coordinating it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from sift.cluster import control, rebalance
from sift.cluster.origin import Origin
from sift.errors import SiftError, UntrustedOrigin
from sift.http.auth import forwarded_origin, guard, sent_as_leader, services
from sift.http.responses import JSONResponse, accepted, json_body, validate_index_uid
from sift.http.routes.search import _with_rules, in_search_thread, local_statistics
from sift.http.schemas import doc, requests, responses
from sift.ops.keys import Principal
from sift.tasks.views import summary_view

router = APIRouter(tags=["Network"])


def already_here(request: Request, origin: Origin | None) -> JSONResponse | None:
    """The answer to a write the leader forwarded (cluster/forward.py) to a node on its own
    database, which has the write already (the leader then sends that node nothing more);
    None for any other write, which is enqueued."""
    if origin is None or origin.database != services(request).network.database_id:
        return None
    return JSONResponse({"taskUid": None, "sameDatabase": True})


@router.get("/network", summary="The network topology", **doc(responses.Network))
async def get_network(
    request: Request, _: Principal = Depends(guard("network.get"))
) -> JSONResponse:
    network = services(request).network
    network.require_enabled()
    return JSONResponse(network.view())


# Meilisearch answers two ways, and its SDKs branch on it: the network (200) while the
# network has no leader, the summary of the `networkTopologyChange` task each change
# enqueues (202) once it has one.
_PATCH_DOC = doc(responses.Network, requests.NetworkUpdate)
_PATCH_DOC["responses"][202] = {
    "model": responses.TaskSummary,
    "description": "With a `leader`: the `networkTopologyChange` task the change enqueued",
}


@router.patch("/network", summary="Change the network topology", **_PATCH_DOC)
async def patch_network(
    request: Request, _: Principal = Depends(guard("network.update"))
) -> JSONResponse:
    network = services(request).network
    network.require_enabled()
    body = await json_body(request)
    # The leader propagates its /network to every remote (cluster/network.py); a node on
    # the leader's own database reads the same row, so it has the change already.
    origin = forwarded_origin(request, body)
    if (answer := already_here(request, origin)) is not None:
        return answer
    # Another node takes a change only from the leader, except one naming a leader:
    # how a network whose leader is gone for good gets a new one.
    if origin is None and not (isinstance(body, dict) and "leader" in body):
        network.refuse_unless_leader(forwarded=False)
    task = await run_in_threadpool(network.update, body, origin is not None)
    if task is not None:  # a network with a leader: Meilisearch answers the change's task
        # A change that leaves the topology as it was wakes no listener: wake the worker.
        services(request).wake_workers()
        return accepted(summary_view(task))
    return JSONResponse(network.view())


@router.post(
    control.PATH,
    summary="Steer a running topology change (Meilisearch's network control)",
    status_code=202,
    **doc(responses.TaskSummary, requests.NetworkControl, status=202),
)
async def network_control(
    request: Request, _: Principal = Depends(guard("network.update"))
) -> JSONResponse:
    """``exportNoIndexForRemote``: the named remote (the leader, in Sift) exports nothing
    more to this node for the change the origin names. This node enqueues a
    ``networkTopologyChange`` task of its own, behind that change's writes, whose success
    says the change is applied here (the leader's task lists it in ``remoteTasks``)."""
    svc = services(request)
    network = svc.network
    network.require_enabled()
    if not sent_as_leader(request):
        raise UntrustedOrigin("A network control message")
    message = control.parse(await json_body(request))
    control.check(message, network.topology, network.version)
    # Sent by the leader's outbox, it names its part: a resend gets the first task.
    origin = forwarded_origin(request)
    if (answer := already_here(request, origin)) is not None:
        return answer
    params = {"networkOrigin": message.origin()}
    task = await run_in_threadpool(svc.enqueue, rebalance.TASK_TYPE, None, {}, params,
                                   (), origin)  # fmt: skip
    return accepted(summary_view(task))


@router.post(
    "/indexes/{index_uid}/search/statistics",
    summary="This node's corpus statistics for a query (first round of a network search)",
    **doc(responses.CorpusStatistics, requests.SearchStatistics),
)
async def search_statistics(
    request: Request, index_uid: str, principal: Principal = Depends(guard("search"))
) -> JSONResponse:
    body = await json_body(request)

    def run() -> dict[str, Any]:
        validate_index_uid(index_uid)
        if not principal.can_index(index_uid):
            raise SiftError("The provided API key is invalid.", "invalid_api_key")
        if isinstance(body, dict) and isinstance(body.get("query"), dict):
            # The tenant's filter, as its searches get (a search key may be a token).
            body["query"] = _with_rules(principal, index_uid, body["query"])
        return local_statistics(request, index_uid, body)

    return JSONResponse(await in_search_thread(request, run))
