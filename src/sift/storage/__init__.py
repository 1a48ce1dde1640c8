"""SQL storage: the source of truth. SQLite and PostgreSQL differences live here only."""

from sift.storage.database import Database

__all__ = ["Database"]
