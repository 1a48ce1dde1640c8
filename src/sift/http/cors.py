"""Cross-origin calls from browsers, as Meilisearch answers them.

By default any origin may call (`Access-Control-Allow-Origin: *`), a preflight `OPTIONS`
is answered for every route, with any method and any request header allowed (the SDKs
send `Authorization`, `Content-Type`, `X-Meilisearch-Client` and more), cached for a day.
`cors_origins` narrows the origins; the rest stays. No credentials: API calls carry their
key in `Authorization`, and the dashboard's cookie is never sent cross-origin.
"""

from __future__ import annotations

from typing import Any

from sift.config import Config, split_list

# Response headers a page's script may read besides the safelisted ones: how long to wait
# after a 429, and the id to quote when reporting a failure (http/failures.py).
EXPOSED = ["Retry-After", "X-Request-Id"]


def cors_options(config: Config) -> dict[str, Any]:
    """Keyword arguments of Starlette's CORSMiddleware for these settings."""
    origins = split_list(config.cors_origins)
    return {
        "allow_origins": ["*"] if "*" in origins else origins,
        "allow_methods": ["*"],
        "allow_headers": ["*"],
        "expose_headers": EXPOSED,
        "max_age": 86400,
    }
