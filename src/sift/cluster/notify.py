"""Cross-process wake-ups over Redis pub/sub (optional).

Without Redis, a worker that does not hold the lease polls the database every
half second. With Redis, enqueueing a task or finishing a batch publishes a
message so the leader starts at once and followers reload at once. Messages
carry no data: the database stays the only source of truth, so a lost message
only costs the poll interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("sift.cluster.notify")


class RedisNotifier:
    def __init__(self, url: str, on_message: Callable[[], None], prefix: str = "sift") -> None:
        import redis

        self.channel = f"{prefix}:changes"
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._on_message = on_message
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="sift-notify", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def publish(self) -> None:
        try:
            self._redis.publish(self.channel, b"1")
        except Exception as exc:  # Redis is an accelerator only; never fail a write on it
            log.warning("redis publish failed: %s", exc.__class__.__name__)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                while not self._stop.is_set():
                    if pubsub.get_message(timeout=1.0) is not None:
                        self._on_message()
                pubsub.close()
            except Exception as exc:  # reconnect after a pause
                log.warning("redis subscription lost: %s", exc.__class__.__name__)
                self._stop.wait(2.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(3.0)
        self._redis.close()
