"""Which database errors the worker retries (transient) and which fail a task."""

from __future__ import annotations

import sqlite3

import psycopg
import sqlalchemy as sa

from sift.storage.database import error_summary, is_transient


def _wrapped(cls: type[sa.exc.DBAPIError], orig: Exception, invalidated: bool = False) -> Exception:
    return cls("UPDATE tasks SET x = :x", {"x": "secret payload"}, orig,
               connection_invalidated=invalidated)  # fmt: skip


def test_a_lost_connection_or_server_is_transient() -> None:
    reset = psycopg.OperationalError("consuming input failed: server closed the connection")
    assert is_transient(_wrapped(sa.exc.OperationalError, reset))
    assert is_transient(_wrapped(sa.exc.DBAPIError, Exception("gone"), invalidated=True))
    assert is_transient(_wrapped(sa.exc.InterfaceError, psycopg.InterfaceError("closed")))
    assert is_transient(sa.exc.TimeoutError("QueuePool limit reached"))
    assert is_transient(_wrapped(sa.exc.OperationalError,
                                 sqlite3.OperationalError("database is locked")))  # fmt: skip


def test_mistakes_and_bad_data_are_not() -> None:
    assert not is_transient(_wrapped(sa.exc.OperationalError,
                                     sqlite3.OperationalError("no such table: tasks")))  # fmt: skip
    duplicate = psycopg.errors.UniqueViolation("duplicate key value")
    assert not is_transient(_wrapped(sa.exc.IntegrityError, duplicate))
    assert not is_transient(ValueError("a bug"))


def test_the_summary_is_the_driver_message_without_sql_or_parameters() -> None:
    orig = psycopg.OperationalError("terminating connection\nDETAIL: more")
    summary = error_summary(_wrapped(sa.exc.OperationalError, orig))
    assert summary == "OperationalError: terminating connection"
    assert "secret" not in summary and "UPDATE" not in summary
