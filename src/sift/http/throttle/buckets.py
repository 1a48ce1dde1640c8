"""One quota over many keys: a token bucket per key, in this process or in Redis."""

from __future__ import annotations

import logging
import time
from typing import Any

from throttled.asyncio import RateLimiterType, Throttled, store
from throttled.exceptions import StoreUnavailableError

log = logging.getLogger("sift.throttle")

# Buckets one process keeps per quota, least recently used dropped first: memory stays
# bounded (a few MB) however many addresses call; a dropped bucket starts full again.
LOCAL_KEYS = 50_000
# After Redis failed, count in this process for this long before asking Redis again, so a
# Redis that is down or unreachable costs one failed call per interval, not every request.
REDIS_PAUSE_SECONDS = 5.0


def redis_store(url: str) -> store.RedisStore:
    # Short timeouts: a hung Redis must not hold every request for seconds.
    return store.RedisStore(
        server=url, options={"SOCKET_TIMEOUT": 0.5, "SOCKET_CONNECT_TIMEOUT": 0.5}
    )


class Buckets:
    """Token buckets of one quota (`100/s burst 200`), one per key.

    throttled-py's GCRA keeps, per key, the time its bucket will be full again: the token
    bucket in one number, updated atomically (a Lua script in Redis)."""

    def __init__(self, name: str, quota: str, shared: store.RedisStore | None, prefix: str):
        self.quota = quota
        key_prefix = f"{prefix}:limits:{name}"
        self._local = self._throttled(
            quota, store.MemoryStore(options={"MAX_SIZE": LOCAL_KEYS}), key_prefix
        )
        self._shared = None if shared is None else self._throttled(quota, shared, key_prefix)
        self._paused_until = 0.0

    @staticmethod
    def _throttled(quota: str, where: store.BaseStore, key_prefix: str) -> Throttled:
        return Throttled(
            using=RateLimiterType.GCRA.value, quota=quota, store=where, key_prefix=key_prefix
        )

    async def take(self, key: str) -> float:
        """Spends a token of `key`'s bucket: 0.0 if it had one, else the seconds until it will."""
        result = await self._call("limit", key)
        return float(result.state.retry_after) if result.limited else 0.0

    async def wait(self, key: str) -> float:
        """Seconds until `key`'s bucket has a token (0.0: it has one now); spends nothing."""
        state = await self._call("peek", key)
        if state.remaining >= 1:
            return 0.0
        # The bucket is full again after `reset_after`; each token takes one emission
        # interval, so the first one comes (burst - 1) intervals before that. (throttled-py
        # 3.5's own peek retry_after is one interval short.)
        quota = self._local.limiter.quota
        return max(0.0, float(state.reset_after) - (quota.burst - 1) * quota.emission_interval)

    async def _call(self, method: str, key: str) -> Any:
        if self._shared is not None and time.monotonic() >= self._paused_until:
            try:
                return await getattr(self._shared, method)(key)
            except StoreUnavailableError as exc:
                self._paused_until = time.monotonic() + REDIS_PAUSE_SECONDS
                log.warning(
                    "rate limits: Redis unavailable (%s), counting in this process for %.0f s",
                    exc.__cause__.__class__.__name__,
                    REDIS_PAUSE_SECONDS,
                )
        return await getattr(self._local, method)(key)
