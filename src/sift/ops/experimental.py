"""Meilisearch's experimental features: which Sift has, and the ones a client switches.

Most are fixed: what Sift has is always on (the Prometheus ``/metrics`` route, the
``CONTAINS`` filter operator, ``GET /tasks/{uid}/documents``), what it lacks cannot be
turned on. A feature that opens a route Meilisearch keeps closed by default
(``renderRoute``, ``network``, ``dynamicSearchRules``) is a switch instead, off until a
client turns it on, so a client that relies on Meilisearch's default sees the route
refused as there. Switches live in the
database's ``meta`` table: every node of a cluster answers the same, a restart keeps
them, and backups carry them.
"""

from __future__ import annotations

from typing import Final

from sift.errors import SiftError
from sift.storage import keys as meta_rows
from sift.storage.database import Database

# Meilisearch's experimental features, in its order: True/False are fixed (Sift has it /
# lacks it), None is a switch whose state is stored.
FEATURES: Final[dict[str, bool | None]] = {
    "metrics": True,
    "logsRoute": False,
    "editDocumentsByFunction": False,
    "containsFilter": True,
    "network": None,  # /network and useNetwork (sift.cluster)
    "getTaskDocumentsRoute": True,  # while a task's payload is stored (routes/tasks.py)
    "compositeEmbedders": False,
    "chatCompletions": False,
    "multimodal": False,
    "vectorStoreSetting": False,
    "renderRoute": None,  # POST /render-template (http/routes/render.py)
    "dynamicSearchRules": None,  # /dynamic-search-rules and their effect on searches (sift.rules)
}
_META_PREFIX: Final = "experimental."


def features(db: Database) -> dict[str, bool]:
    """Every feature and whether it is on now."""
    with db.read() as conn:
        stored = {
            name: meta_rows.get_meta(conn, _META_PREFIX + name) == "true"
            for name, fixed in FEATURES.items()
            if fixed is None
        }
    return {name: stored[name] if fixed is None else fixed for name, fixed in FEATURES.items()}


def enabled(db: Database, name: str) -> bool:
    """Whether feature ``name`` is on now: for a switch, its one row read. Read once a
    second inside a search (sift.rules.book) and by the network's watcher: reading every
    switch there took three queries where one answers (issue #18)."""
    fixed = FEATURES[name]  # KeyError for a feature Meilisearch does not have, as before
    if fixed is not None:
        return fixed
    with db.read() as conn:
        return meta_rows.get_meta(conn, _META_PREFIX + name) == "true"


def switch(db: Database, wanted: dict[str, bool]) -> dict[str, bool]:
    """Apply a validated PATCH: switches take the asked state, fixed features only their
    own (anything else is refused before a switch changes). Returns every feature."""
    for name, on in wanted.items():
        fixed = FEATURES[name]
        if fixed is None or on == fixed:
            continue
        if on:
            raise SiftError(
                f"Sift does not have the experimental feature `{name}`.", "feature_not_enabled"
            )
        raise SiftError(
            f"`{name}` is built into Sift and always on: it cannot be turned off.",
            "bad_request",
        )
    switches = {name: on for name, on in wanted.items() if FEATURES[name] is None}
    if switches:
        with db.write() as conn:
            for name, on in switches.items():
                meta_rows.set_meta(conn, _META_PREFIX + name, "true" if on else "false")
    return features(db)


def require(db: Database, name: str, route: str) -> None:
    """Refuse a route whose feature is off, with Meilisearch's code."""
    if not enabled(db, name):
        raise SiftError(
            f"Using `{route}` requires enabling the `{name}` experimental feature: "
            f'`PATCH /experimental-features` with `{{"{name}": true}}`.',
            "feature_not_enabled",
        )
