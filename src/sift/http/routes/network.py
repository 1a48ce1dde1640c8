"""/network: the topology of the nodes a search may span (Meilisearch's network API).

Behind the `network` experimental feature, as in Meilisearch. The topology is stored in
the database (src/sift/cluster/network.py); on nodes sharing one database, a PATCH on any
node is seen by every other within a second.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from sift.http.auth import guard, services
from sift.http.responses import JSONResponse, json_body
from sift.http.schemas import doc, requests, responses
from sift.ops.keys import Principal

router = APIRouter(tags=["Network"])


@router.get("/network", summary="The network topology", **doc(responses.Network))
async def get_network(
    request: Request, _: Principal = Depends(guard("network.get"))
) -> JSONResponse:
    network = services(request).network
    network.require_enabled()
    return JSONResponse(network.view())


@router.patch(
    "/network",
    summary="Change the network topology",
    **doc(responses.Network, requests.NetworkUpdate),
)
async def patch_network(
    request: Request, _: Principal = Depends(guard("network.update"))
) -> JSONResponse:
    network = services(request).network
    network.require_enabled()
    body = await json_body(request)
    await run_in_threadpool(network.update, body)
    return JSONResponse(network.view())
