"""What can go wrong with a source, by what the runner must do about it."""

from __future__ import annotations


class SyncError(Exception):
    """A source problem; the message is safe to show (no passwords)."""


class CaptureUnavailable(SyncError):
    """The source cannot be read as configured (binlog off, no such table, no rights):
    retried slowly, since only an operator can fix it."""


class PositionLost(SyncError):
    """The stored position is gone from the source (binlog purged, slot dropped): the
    source stops until it is re-snapshotted (`sift sync resnapshot NAME`)."""
