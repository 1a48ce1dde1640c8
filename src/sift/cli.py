"""The `sift` command line: serve, import, migrate, restore, sync."""

from __future__ import annotations

import functools
import logging.config
import sys
from typing import Any

import click

import sift
from sift.config import SETTINGS, Config, load_config

# The settings that mean something to the commands that work on the database alone:
# `serve` takes them all, the others only where their data is and how it is written.
DATABASE = ("data_dir", "database_url", "config_file")
IMPORT = (*DATABASE, "index_defaults", "batch_size")


def _settings_options(func: Any, names: tuple[str, ...] | None = None) -> Any:
    """One flag per server setting (or per setting in ``names``), declared once in
    sift.config."""
    for setting in reversed(SETTINGS):
        if names is not None and setting.name not in names:
            continue
        kind: Any = click.Choice(setting.choices) if setting.choices else setting.type
        if setting.type is bool:
            func = click.option(
                setting.flag, setting.name, is_flag=True, default=None, help=setting.help
            )(func)
        else:
            func = click.option(
                setting.flag,
                setting.name,
                type=kind,
                default=None,
                help=f"{setting.help} [env {setting.env}; default: {setting.default}]",
                show_envvar=False,
            )(func)
    return func


def _config(overrides: dict[str, Any]) -> Config:
    try:
        return load_config(overrides)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def setup_logging(level: str) -> None:
    from sift.server import logging_config

    logging.config.dictConfig(logging_config(level))


@click.group()
@click.version_option(sift.__version__, prog_name="sift")
def main() -> None:
    """Sift: a self-hosted search back end speaking the Meilisearch v1 API."""


@main.command()
@_settings_options
def serve(**overrides: Any) -> None:
    """Run the HTTP server."""
    from sift.server import run

    config = _config(overrides)
    setup_logging(config.log_level)
    if overrides.get("master_key"):
        logging.getLogger("sift").warning(
            "--master-key shows the key to every user of this machine (ps): give it with "
            "--master-key-file or SIFT_MASTER_KEY instead"
        )
    run(config)


@main.command()
@functools.partial(_settings_options, names=DATABASE)
def migrate(**overrides: Any) -> None:
    """Bring the database schema to the newest version."""
    from sift.storage import Database

    config = _config(overrides)
    db = Database(config.resolved_database_url)
    db.migrate()
    click.echo(f"database at revision {db.current_revision()}")


@main.command()
@click.argument("dump", type=click.Path(exists=True, dir_okay=False))
@functools.partial(_settings_options, names=DATABASE)
def restore(dump: str, **overrides: Any) -> None:
    """Load a dump (from `POST /dumps`) into a database without indexes.

    Run it before `sift serve`, with the same database settings; the search indexes are
    built from the restored rows when the server starts."""
    from pathlib import Path

    from sift.ops.backups import restore as load_dump
    from sift.storage import Database

    config = _config(overrides)
    db = Database(config.resolved_database_url)
    db.migrate()
    try:
        counts = load_dump(db, Path(dump))
    except (ValueError, KeyError, OSError) as exc:  # not a dump, or a damaged one
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(
        f"restored {counts['indexes']} indexes, {counts['documents']} documents, "
        f"{counts['keys']} API keys and {counts['webhooks']} webhooks"
    )


@main.command(name="import")
@click.argument("index")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--url",
    default=None,
    help="Import through a running server at this URL instead of writing to the data directory.",
)
@click.option("--api-key", default=None, envvar="SIFT_API_KEY", help="Key for --url.")
@click.option("--primary-key", default=None, help="Primary key of the documents.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "ndjson", "csv"]),
    default=None,
    help="Payload format (default: from the file extension).",
)
@click.option(
    "--batch-bytes",
    default=16 << 20,
    show_default=True,
    help="With --url: bytes of NDJSON sent per request.",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="No progress bars and no summary (errors still show)."
)
@functools.partial(_settings_options, names=IMPORT)
def import_(
    index: str,
    file: str,
    url: str | None,
    api_key: str | None,
    primary_key: str | None,
    fmt: str | None,
    batch_bytes: int,
    quiet: bool,
    **overrides: Any,
) -> None:
    """Import FILE (JSON, NDJSON or CSV) into INDEX, with progress bars for reading or
    sending the file, the tasks, and the embedding of documents when the index has
    embedders (only on a terminal; none with --quiet).

    CSV values are strings unless the header gives the column a type, as Meilisearch
    reads CSV: `price:number`, `inStock:boolean` (`:string` is the default). For example:

    \b
        id,title,price:number,inStock:boolean
        1,Dune,9.90,true

    Without --primary-key, the index's primary key is the field of the first document whose
    name ends in `id`; a file without one is refused before anything is written."""
    from sift.ops.importer import import_file

    config = _config(overrides)
    setup_logging("warning")
    import_file(
        config,
        index,
        file,
        url=url,
        api_key=api_key,
        primary_key=primary_key,
        fmt=fmt,
        batch_bytes=batch_bytes,
        show_progress=not quiet and sys.stderr.isatty(),
        summary=not quiet,
    )


@main.group(invoke_without_command=True)
@click.option("--once", is_flag=True, help="Snapshot every source into its index, wait "
              "until the documents are indexed, and exit (no change capture).")  # fmt: skip
@_settings_options
@click.pass_context
def sync(ctx: click.Context, once: bool, **overrides: Any) -> None:
    """Sources: tables of the site's database kept in sync (docs/sync.md)."""
    if ctx.invoked_subcommand is not None:
        return
    if not once:
        click.echo(ctx.get_help())
        return
    from sift.sync.commands import run_once

    config = _config(overrides)
    setup_logging("warning")
    run_once(config)


@sync.command("status")
@click.option("--url", default=None, help="Ask a running server instead of the database.")
@click.option("--api-key", default=None, envvar="SIFT_API_KEY", help="Key for --url.")
@_settings_options
def sync_status(url: str | None, api_key: str | None, **overrides: Any) -> None:
    """State, position, lag and errors of each source."""
    from sift.sync.commands import status

    status(_config(overrides), url, api_key)


@sync.command("resnapshot")
@click.argument("name")
@_settings_options
def sync_resnapshot(name: str, **overrides: Any) -> None:
    """Forget source NAME's position: it is snapshotted again (after a purged binlog or a
    dropped slot). A running server picks it up within seconds."""
    from sift.sync.commands import resnapshot

    resnapshot(_config(overrides), name)


if __name__ == "__main__":
    main()
