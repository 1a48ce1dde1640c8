"""Sift's three rate limits, from the settings, and the errors they answer."""

from __future__ import annotations

import hashlib

from starlette.types import Scope

from sift.config import Config
from sift.errors import RateLimited
from sift.http.throttle.buckets import Buckets, redis_store


def client_address(scope: Scope) -> str:
    """The caller's address: the peer, or what a trusted proxy said (see `trusted_proxies`)."""
    client = scope.get("client")
    # Cut to an IPv6 address's longest form: a forwarded value is text a proxy passed on.
    return str(client[0])[:45] if client else "unknown"


def _quota(value: str | None) -> str | None:
    return None if value is None or value.strip().lower() in ("", "off") else value


class Limits:
    """Per client address, per API key, and of failed authentications per address.

    A limit set to `off` costs nothing: its attribute is None and callers skip it."""

    def __init__(self, config: Config) -> None:
        self._shared = shared = redis_store(config.redis_url) if config.redis_url else None
        prefix = config.redis_prefix

        def buckets(name: str, setting: str | None) -> Buckets | None:
            quota = _quota(setting)
            return None if quota is None else Buckets(name, quota, shared, prefix)

        self.per_address = buckets("address", config.rate_limit_per_address)
        self.per_key = buckets("key", config.rate_limit_per_key)
        self.auth_failures = buckets("auth-failures", config.rate_limit_auth_failures)

    async def request(self, address: str) -> None:
        """Counts a request from `address`; raises once its bucket is empty."""
        if self.per_address is not None:
            wait = await self.per_address.take(address)
            if wait:
                raise RateLimited(
                    f"Too many requests from `{address}` (limit: {self.per_address.quota}).",
                    wait,
                )

    async def key(self, uid: str | None, token: str) -> None:
        """Counts a request made with an API key (`uid`) or a tenant token (uid None)."""
        if self.per_key is not None:
            # A token's own digest: never the secret itself, in memory or in Redis.
            name = uid or "token-" + hashlib.sha256(token.encode()).hexdigest()[:32]
            wait = await self.per_key.take(name)
            if wait:
                shown = f"API key `{uid}`" if uid else "this tenant token"
                raise RateLimited(
                    f"Too many requests with {shown} (limit: {self.per_key.quota}).", wait
                )

    async def check_authentication(self, address: str) -> None:
        """Raises when `address` failed to authenticate too often. Callers check it before
        comparing a key, so a throttled guesser learns nothing, even from a right guess."""
        if self.auth_failures is not None:
            wait = await self.auth_failures.wait(address)
            if wait:
                raise RateLimited(
                    f"Too many failed authentications from `{address}` "
                    f"(limit: {self.auth_failures.quota}).",
                    wait,
                    "too_many_authentication_failures",
                )

    async def authentication_failed(self, address: str) -> None:
        if self.auth_failures is not None:
            await self.auth_failures.take(address)

    async def close(self) -> None:
        """Closes the Redis connections, if any (at shutdown)."""
        if self._shared is not None:
            # throttled-py 3.5 has no public close: its backend holds the redis-py client,
            # which does not own the connection pool it was given.
            client = self._shared._backend.get_client()
            await client.aclose()
            await client.connection_pool.disconnect()
