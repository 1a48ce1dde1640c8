"""How secrets (embedder API keys, webhook authorization headers) are shown by the API."""

from __future__ import annotations

REDACTED_SUFFIX = "..."


def redact(secret: str) -> str:
    """A few leading characters, some ``X`` and ``...``: enough to tell two secrets apart,
    never enough to use one. Lengths follow what Meilisearch shows (`TOKEN` → `XXX...`,
    `UPDATED TOKEN` → `UPXXXX...`, a 21-character key → its first 3 and `XXXXX...`)."""
    shown = min(3, len(secret) // 6)
    return secret[:shown] + "X" * (3 + min(2, len(secret) // 8)) + REDACTED_SUFFIX
