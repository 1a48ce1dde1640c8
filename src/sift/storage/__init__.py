"""SQL storage: the source of truth. SQLite and PostgreSQL differences live here only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sift.storage.database import Database

__all__ = ["Database"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so that a supervisor of several workers can run the child
    # migration (child_migration.run_child) without importing SQLAlchemy (~11 MiB).
    if name == "Database":
        from sift.storage.database import Database

        return Database
    raise AttributeError(name)
