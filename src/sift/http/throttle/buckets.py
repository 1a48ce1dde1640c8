"""One quota over many keys: a token bucket per key, in this process or in Redis."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from throttled.asyncio import Throttled, store

log = logging.getLogger("sift.throttle")

# Buckets one process keeps per quota, least recently used dropped first: memory stays
# bounded (a few MB) however many addresses call; a dropped bucket starts full again.
LOCAL_KEYS = 50_000
# After Redis failed, count in this process for this long before asking Redis again, so a
# Redis that is down or unreachable costs one failed call per interval, not every request.
REDIS_PAUSE_SECONDS = 5.0


def redis_store(url: str) -> store.RedisStore:
    from throttled.asyncio import store

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
        self._key_prefix = key_prefix = f"{prefix}:limits:{name}"
        # Built on first use (_local): throttled-py imports the whole redis client (~8 MiB
        # of RSS kept in every process) even for buckets in memory, and the default
        # configuration's only limit, of failed authentications, is never spent from on
        # most servers (Refills answers "full" without asking the store).
        self._local_throttled: Throttled | None = None
        self._local_keys = LOCAL_KEYS  # the store's size as of now, as when built eagerly
        self._shared = None if shared is None else self._throttled(quota, shared, key_prefix)
        self._paused_until = 0.0
        self._refills = Refills()

    @property
    def _local(self) -> Throttled:
        if self._local_throttled is None:
            from throttled.asyncio import store

            memory = store.MemoryStore(options={"MAX_SIZE": self._local_keys})
            self._local_throttled = self._throttled(self.quota, memory, self._key_prefix)
        return self._local_throttled

    @staticmethod
    def _throttled(quota: str, where: store.BaseStore, key_prefix: str) -> Throttled:
        from throttled.asyncio import RateLimiterType, Throttled

        return Throttled(
            using=RateLimiterType.GCRA.value, quota=quota, store=where, key_prefix=key_prefix
        )

    async def take(self, key: str) -> float:
        """Spends a token of `key`'s bucket: 0.0 if it had one, else the seconds until it will."""
        result = await self._call("limit", key)
        if self._shared is None:
            self._refills.note(key, float(result.state.reset_after))
        return float(result.state.retry_after) if result.limited else 0.0

    async def wait(self, key: str) -> float:
        """Seconds until `key`'s bucket has a token (0.0: it has one now); spends nothing."""
        if self._shared is None and self._refills.full(key):
            return 0.0  # the usual answer, without the store's ~15 µs peek
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
            from throttled.exceptions import StoreUnavailableError

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


class Refills:
    """When each bucket this process spent from will be full again, to answer "full" for
    the others without asking the store: the failed-authentication gate peeks at the
    caller's bucket before every master-key request, and it is almost always untouched.

    Only for buckets kept in this process (no Redis: another process's spending is not
    seen here). At most ``LOCAL_KEYS`` are tracked; a bucket spent from beyond that is not,
    and until it is surely full again the shortcut is off (the store is asked)."""

    MARGIN_S = 0.01  # the store's clock and this one may differ by a hair: ask it then
    PRUNE_EVERY_S = 1.0

    def __init__(self) -> None:
        self._full_at: dict[str, float] = {}
        self._untracked_until = 0.0  # an untracked bucket may not be full before this
        self._next_prune = 0.0

    def note(self, key: str, reset_after: float) -> None:
        """``key``'s bucket was spent from; it is full again ``reset_after`` seconds on."""
        now = time.monotonic()
        full_at = now + reset_after + self.MARGIN_S
        if key not in self._full_at and len(self._full_at) >= LOCAL_KEYS:
            if now >= self._next_prune:
                self._next_prune = now + self.PRUNE_EVERY_S
                self._full_at = {k: t for k, t in self._full_at.items() if t > now}
            if len(self._full_at) >= LOCAL_KEYS:
                self._untracked_until = max(self._untracked_until, full_at)
                return
        self._full_at[key] = full_at

    def full(self, key: str) -> bool:
        """Whether ``key``'s bucket is surely full: never spent from, or refilled since."""
        now = time.monotonic()
        if now < self._untracked_until:
            return False
        full_at = self._full_at.get(key)
        if full_at is None:
            return True
        if full_at <= now:
            del self._full_at[key]
            return True
        return False
