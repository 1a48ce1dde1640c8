"""Sources: tables of the site's own MySQL/MariaDB or PostgreSQL database kept searchable.

`[[sources]]` in sift.toml name a database and its tables (config.py); each source is
snapshotted, then followed through its change stream (mysql.py: the row binlog;
postgres.py: logical replication with pgoutput; triggers.py: a trigger-fed change log),
and every change is committed to Sift as document tasks in the same transaction as the
source's new position (commit.py), so it applies exactly once (docs/sync.md).
"""

from sift.sync.config import SourceConfig, TableConfig, parse_sources
from sift.sync.errors import CaptureUnavailable, PositionLost, SyncError
from sift.sync.manager import SyncManager, UnknownSource, reset

__all__ = [
    "CaptureUnavailable",
    "PositionLost",
    "SourceConfig",
    "SyncError",
    "SyncManager",
    "TableConfig",
    "UnknownSource",
    "parse_sources",
    "reset",
]
