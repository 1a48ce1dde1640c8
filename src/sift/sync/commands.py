"""What `sift sync` does: `--once`, `status`, `resnapshot` (the CLI itself is sift/cli.py)."""

from __future__ import annotations

import time
from typing import Any

import click
import httpx

from sift.config import Config
from sift.storage import sources as source_rows
from sift.storage import tasks as task_rows
from sift.storage.database import Database
from sift.sync.config import SourceConfig, parse_sources
from sift.sync.manager import reset
from sift.sync.runner import status_view


def configured(config: Config) -> tuple[SourceConfig, ...]:
    try:
        sources = parse_sources(config.sections.get("sources"))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if not sources:
        raise click.UsageError(f"no [[sources]] in {config.config_file} (docs/sync.md)")
    return sources


def run_once(config: Config) -> None:
    """Mirror every table into its index, wait until the tasks are processed, exit."""
    from sift.services import Services
    from sift.sync.once import mirror

    sources = configured(config)
    services = Services.build(config)
    services.worker.start()  # runs the tasks, unless a server's worker holds the lease

    def progress(source: str, table: str, done: int, total: int) -> None:
        click.echo(f"{source} {table}: {done}/{total} rows read", err=True)

    try:
        for source in sources:
            counts = mirror(services.db, source, progress)
            for table, count in counts.items():
                click.echo(f"{source.name} {table}: {count['rows']} rows, "
                           f"{count['deleted']} stale documents deleted")  # fmt: skip
        while True:
            with services.db.read() as conn:
                counts = task_rows.status_counts(conn)
            if not counts.get("enqueued") and not counts.get("processing"):
                break
            time.sleep(0.2)
        click.echo("indexed")
    finally:
        services.stop()


def _line(view: dict[str, Any]) -> str:
    position = view.get("position") or {}
    where = ":".join(str(v) for v in position.values() if not isinstance(v, list)) or "-"
    parts = [
        f"{view['name']}  {view['kind']}/{view['capture']}  {view['state']}",
        f"position {where}",
        f"rows applied {view['rowsApplied']}",
    ]
    if view.get("lagMs") is not None:
        parts.append(f"lag {view['lagMs']} ms / {view['lagRows']} rows")
    if view.get("rowsPerSecond") is not None:
        parts.append(f"{view['rowsPerSecond']} rows/s")
    parts.append(f"row errors {view.get('rowErrors', 0)}")
    lines = ["  ".join(parts)]
    for table, snap in (view.get("snapshot") or {}).items():
        done = "done" if snap.get("finished") else "running"
        lines.append(f"  snapshot {table}: {snap.get('done')}/{snap.get('total')} rows, {done}")
    if view.get("lastError"):
        lines.append(f"  last error: {view['lastError']}")
    return "\n".join(lines)


def status(config: Config, url: str | None, api_key: str | None) -> None:
    if url:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        response = httpx.get(url.rstrip("/") + "/sources", headers=headers, timeout=10)
        if response.status_code != 200:
            raise click.ClickException(f"{response.status_code}: {response.text}")
        views = response.json()["results"]
    else:
        db = Database(config.resolved_database_url)
        try:
            db.migrate()
            with db.read() as conn:
                views = []
                for source in configured(config):
                    view = status_view(source, source_rows.get(conn, source.name), None)
                    view["rowErrors"] = source_rows.count_row_errors(conn, source.name)
                    views.append(view)
        finally:
            db.dispose()
    for view in views:
        click.echo(_line(view))


def resnapshot(config: Config, name: str) -> None:
    if name not in {s.name for s in configured(config)}:
        raise click.UsageError(f"no source named {name}")
    db = Database(config.resolved_database_url)
    try:
        db.migrate()
        reset(db, name)
    finally:
        db.dispose()
    click.echo(f"{name}: position forgotten; the next run snapshots it again")
