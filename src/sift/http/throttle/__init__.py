"""Rate limits: per client address, per API key, and of failed authentications.

Each is a token bucket (throttled-py's GCRA): a quota `100/s burst 200` lets a client
spend 200 requests at once, then 100 a second. Buckets live in the process, or with
`redis_url` in Redis, shared by every process and node. The client address is the peer's,
or the one a trusted proxy forwarded (`trusted_proxies`, applied by the app's middleware).
"""

from sift.http.throttle.limits import Limits, client_address
from sift.http.throttle.middleware import LimitAddresses

__all__ = ["LimitAddresses", "Limits", "client_address"]
