"""A server's schema migration, run in a short-lived child process.

Alembic imports, besides itself and Mako, SQLAlchemy's dialect modules for every database
it can migrate: ~10 MiB of RSS that a process keeps once it has migrated, though it never
migrates again. `Database.migrate` already skips Alembic when the schema is at the head
(every start but the first after an install or an upgrade); `sift serve` runs that first
migration here, in a child, so its own process never loads Alembic at all
(docs/benchmarks/memory.md, "The server's process before any document").
"""

from __future__ import annotations

import logging
import subprocess
import sys

log = logging.getLogger("sift.storage")


def migrate_in_child(url: str) -> bool:
    """Bring the schema at ``url`` to the head in a child process if it is not there;
    returns whether it is there now. Any failure (a database that cannot be reached, a
    failed child) is left to the caller: the server's own `Database.migrate` then meets it
    and reports it where a start always has."""
    from sift.storage.database import HEAD_REVISION, Database

    try:
        db = Database(url)
        try:
            if db.current_revision() == HEAD_REVISION:
                return True
        finally:
            db.dispose()
    except Exception as exc:  # reported by the server's own start, as before
        log.debug("schema check before the child migration failed: %s", exc)
        return False
    return run_child(url)


def run_child(url: str) -> bool:
    """The child alone, with no check here: for a supervisor of several workers, which
    imports neither SQLAlchemy nor the app (the child finds a schema at the head and
    leaves it, without Alembic). Run before the workers start, it makes the first start's
    migration happen once, and no worker then loads Alembic."""
    # A fresh interpreter, not a fork (which would start with this process's modules and
    # threads); the URL, which may hold a password, goes on stdin, not the command line.
    child = subprocess.run(
        [sys.executable, "-m", "sift.storage.child_migration"], input=url.encode(), check=False
    )
    if child.returncode != 0:
        log.warning("schema migration in a child process failed (exit code %s)", child.returncode)
        return False
    return True


if __name__ == "__main__":
    from sift.storage.database import Database

    Database(sys.stdin.read(), name="sift migrate").migrate()
