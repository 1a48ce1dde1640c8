"""Who may call what: the master key, API keys (actions, indexes, expiry), tenant tokens."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from sift.cluster.origin import Origin
from sift.errors import SiftError, UntrustedOrigin
from sift.http.headers import header
from sift.http.throttle import Limits, client_address
from sift.ops.keys import Principal
from sift.services import Services

OPEN = Principal(key=None)
MASTER = Principal(key=None, is_master=True)  # frozen: one for every request


def services(request: Request) -> Services:
    return request.app.state.services


def limits(request: Request) -> Limits:
    return request.app.state.limits


def _invalid() -> SiftError:
    return SiftError("The provided API key is invalid.", "invalid_api_key")


async def authenticate(request: Request, action: str, index_uid: str | None = None) -> Principal:
    """The caller, if allowed to perform `action` (on `index_uid`); raises otherwise."""
    svc = services(request)
    master = svc.config.master_key
    if master is None:
        if action.startswith("keys."):
            raise SiftError(
                "Meilisearch is running without a master key. To access this API endpoint, you "
                "must have set a master key at launch.",
                "missing_master_key",
            )
        return OPEN
    authorization = (header(request.scope, b"authorization") or "").strip()
    if not authorization:
        raise SiftError(
            "The Authorization header is missing. It must use the bearer authorization method.",
            "missing_authorization_header",
        )
    token = _bearer(authorization)  # the header read once, not once per use
    # An API key or tenant token verified in the last second: a 256-bit secret or a
    # signature, never a guess, so the hot path skips the failure gate (and its Redis
    # round trip). Everything else may be a guess: while the address is out of
    # authentication tokens it is refused before any comparison, even when right.
    principal = _principal(svc, token, action, cached_only=True) if token else None
    if principal is None:
        address = client_address(request.scope)
        await limits(request).check_authentication(address)
        # Constant time: how long a comparison takes must not tell how much was right.
        if hmac.compare_digest(token.encode(), master.encode()):
            return MASTER
        if token:
            principal = await run_in_threadpool(_principal, svc, token, action, False)
        if principal is None:
            await limits(request).authentication_failed(address)
            raise _invalid()
    # A known key used beyond its rights is not a guess: no authentication failure.
    if not principal.can(action) or (index_uid is not None and not principal.can_index(index_uid)):
        raise _invalid()
    is_key = principal.key is not None and principal.search_rules is None
    await limits(request).key(principal.key.uid if is_key else None, token)
    return principal


def bearer_token(request: Request) -> str:
    """The key or token of the request's bearer ``Authorization`` ("" without one)."""
    return _bearer((header(request.scope, b"authorization") or "").strip())


def _bearer(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def forwarded_origin(request: Request, offered: Any = None) -> Origin | None:
    """The leader's task a forwarded write names (cluster/origin.py), once the request
    proves it comes from the leader; None for a client's write.

    The origin headers change what a node does with a write (a node that is not the
    leader takes it, a repeat returns the first task, a write the database has already
    is skipped), so a client must not be able to send them: they count only with the
    master key or the key the leader writes to this node with, the ``writeApiKey`` this
    node's /network names for itself (every network member holds it; a client's API
    key, even one with the write's action, is refused). ``offered``: a PATCH /network
    body, whose ``writeApiKey`` for this node counts too, so the leader's first network
    reaches a node that does not know its key yet (taking it needs ``network.update``,
    which may change the network anyway). Without a master key every caller may do
    everything, so the headers are taken as sent."""
    origin = Origin.from_headers(request.headers)
    if origin is None or sent_as_leader(request, offered):
        return origin
    raise UntrustedOrigin()


def sent_as_leader(request: Request, offered: Any = None) -> bool:
    """Whether the request is authenticated as the leader writes to this node: with the
    master key or this node's ``writeApiKey`` (see :func:`forwarded_origin`); always true
    without a master key."""
    master = services(request).config.master_key
    if master is None:
        return True
    token = bearer_token(request)
    if hmac.compare_digest(token.encode(), master.encode()):
        return True
    return bool(token) and services(request).network.writes_with(token, offered)


def _principal(svc: Services, token: str, action: str, cached_only: bool) -> Principal | None:
    """The principal of an API key or tenant token, None if invalid. ``cached_only``: from
    keys verified less than a second ago, without I/O (None then means "not known yet")."""
    if token.count(".") == 2:  # a JWT: tenant tokens only search (key values are hex)
        if action != "search":
            return None
        from sift.http.tenant_tokens import principal_from_token

        return principal_from_token(svc, token, cached_only=cached_only)
    record = svc.keys.cached(token) if cached_only else svc.keys.lookup(token)
    return None if record is None else Principal(key=record)


# The writes a network's leader forwards to every remote (cluster/forward.py): with a
# `leader` set, any other node refuses them unless the leader sent them (`not_a_leader`).
LEADER_WRITES = frozenset({"documents.add", "documents.delete", "settings.update",
                           "indexes.create", "indexes.update", "indexes.delete",
                           "indexes.swap"})  # fmt: skip


def guard(action: str) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency checking `action`, on the path's index uid when there is one."""

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request, action, request.path_params.get("index_uid"))
        if action in LEADER_WRITES:
            forwarded = forwarded_origin(request) is not None
            services(request).network.refuse_unless_leader(forwarded)
        return principal

    return dependency
