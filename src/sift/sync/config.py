"""`[[sources]]` of sift.toml: the databases and tables Sift keeps indexes in sync with.

Parsed once, at start, into frozen dataclasses; anything wrong is a ValueError naming the
source and the key, like any other setting. Passwords may come from the environment
(`${VAR}` anywhere in the URL, or `password_env`); `SourceConfig.redacted_url` is the only
form of the URL that is ever logged or shown.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sqlalchemy.engine import URL, make_url

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
KINDS = {"mysql": "mysql", "mariadb": "mysql", "postgresql": "postgresql", "postgres": "postgresql"}
CAPTURES = {"mysql": ("binlog",), "postgresql": ("logical", "triggers")}
TYPES = ("number", "integer", "string", "boolean", "json", "timestamp", "rfc3339")
SOURCE_KEYS = {
    "name", "url", "password_env", "capture", "tables", "server_id", "slot", "publication",
    "snapshot_batch",
}  # fmt: skip
TABLE_KEYS = {
    "table", "index", "primary_key", "columns", "exclude", "rename", "types", "soft_delete",
    "where",
}  # fmt: skip


@dataclass(frozen=True)
class TableConfig:
    table: str  # as the source names it: `products`, or `schema.products` on PostgreSQL
    index: str
    primary_key: str = "id"
    columns: tuple[str, ...] | None = None  # None: every column, new ones included
    exclude: tuple[str, ...] = ()
    rename: Mapping[str, str] = field(default_factory=dict)  # column -> document field
    types: Mapping[str, str] = field(default_factory=dict)  # column -> one of TYPES
    soft_delete: str | None = None  # column whose true value removes the document
    where: str | None = None  # SQL condition evaluated by the source

    @property
    def schema_and_name(self) -> tuple[str | None, str]:
        schema, _, name = self.table.rpartition(".")
        return (schema or None), name

    @property
    def document_key(self) -> str:
        """The primary key's field name in documents (after renaming)."""
        return self.rename.get(self.primary_key, self.primary_key)


@dataclass(frozen=True)
class SourceConfig:
    name: str
    url: URL
    kind: str  # "mysql" or "postgresql"
    capture: str  # "binlog", "logical" or "triggers"
    tables: tuple[TableConfig, ...]
    server_id: int = 0  # the replica id a MySQL binlog reader announces
    slot: str = ""
    publication: str = ""
    snapshot_batch: int = 10_000

    @property
    def redacted_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def table(self, key: str) -> TableConfig | None:
        return next((t for t in self.tables if t.table == key), None)


def parse_sources(raw: Any, environ: Mapping[str, str] | None = None) -> tuple[SourceConfig, ...]:
    """The `sources` array of sift.toml, checked."""
    environ = os.environ if environ is None else environ
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        raise ValueError("sources: expected an array of tables ([[sources]])")
    sources = tuple(_source(s, environ) for s in raw)
    names = [s.name for s in sources]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"sources: the name `{name}` is used twice")
    indexes = [(t.index, s.name) for s in sources for t in s.tables]
    for index, source in indexes:
        if [i for i, _ in indexes].count(index) > 1:
            raise ValueError(f"sources.{source}: index `{index}` is fed by two tables")
    return sources


def _unknown(where: str, given: Mapping[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(given) - allowed)
    if extra:
        raise ValueError(f"{where}: unknown keys {', '.join(extra)}")


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{where}: expected an array of column names")
    return tuple(value)


def _url(name: str, raw: dict[str, Any], environ: Mapping[str, str]) -> URL:
    text = raw.get("url")
    if not isinstance(text, str) or not text:
        raise ValueError(f"sources.{name}: `url` is required")

    def expand(match: re.Match[str]) -> str:
        if match.group(1) not in environ:
            raise ValueError(f"sources.{name}: environment variable {match.group(1)} is not set")
        return quote(environ[match.group(1)], safe="")  # a password may hold `@` or `/`

    expanded = ENV_REF.sub(expand, text)
    try:
        url = make_url(expanded)
    except Exception as exc:  # sqlalchemy raises ArgumentError, ValueError...
        raise ValueError(f"sources.{name}: `url` is not a database URL") from exc
    password_env = raw.get("password_env")
    if password_env is not None:
        if password_env not in environ:
            raise ValueError(f"sources.{name}: environment variable {password_env} is not set")
        url = url.set(password=environ[password_env])
    return url


def _source(raw: dict[str, Any], environ: Mapping[str, str]) -> SourceConfig:
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise ValueError(
            "sources: every source needs a `name` of lowercase letters, digits and underscores"
        )
    _unknown(f"sources.{name}", raw, SOURCE_KEYS)
    url = _url(name, raw, environ)
    kind = KINDS.get(url.drivername.split("+")[0])
    if kind is None:
        raise ValueError(f"sources.{name}: the URL must start with mysql:// or postgresql://")
    capture = raw.get("capture", CAPTURES[kind][0])
    if capture not in CAPTURES[kind]:
        raise ValueError(
            f"sources.{name}: capture `{capture}` is not one of {', '.join(CAPTURES[kind])}"
        )
    tables_raw = raw.get("tables")
    if not isinstance(tables_raw, list) or not tables_raw:
        raise ValueError(f"sources.{name}: at least one [[sources.tables]] is required")
    tables = tuple(_table(name, kind, t) for t in tables_raw)
    if len({t.table for t in tables}) != len(tables):
        raise ValueError(f"sources.{name}: a table is listed twice")
    batch = raw.get("snapshot_batch", 10_000)
    if not isinstance(batch, int) or batch < 1:
        raise ValueError(f"sources.{name}: `snapshot_batch` must be a positive integer")
    # A replica id no real replica is likely to use, stable across restarts.
    server_id = raw.get("server_id", 1_000_000 + zlib.crc32(name.encode()) % 1_000_000)
    return SourceConfig(
        name=name,
        url=url,
        kind=kind,
        capture=capture,
        tables=tables,
        server_id=int(server_id),
        slot=str(raw.get("slot", f"sift_{name}")),
        publication=str(raw.get("publication", f"sift_{name}")),
        snapshot_batch=batch,
    )


def _table(source: str, kind: str, raw: Any) -> TableConfig:
    if not isinstance(raw, dict) or not isinstance(raw.get("table"), str):
        raise ValueError(f"sources.{source}.tables: every table needs `table`")
    where = f"sources.{source}.tables.{raw['table']}"
    _unknown(where, raw, TABLE_KEYS)
    table = raw["table"]
    if kind == "postgresql" and "." not in table:
        table = f"public.{table}"
    index = raw.get("index")
    if not isinstance(index, str) or not re.match(r"^[A-Za-z0-9_-]{1,400}$", index):
        raise ValueError(f"{where}: `index` must be a valid index uid")
    columns = _strings(f"{where}.columns", raw["columns"]) if "columns" in raw else None
    exclude = _strings(f"{where}.exclude", raw.get("exclude", []))
    primary_key = raw.get("primary_key", "id")
    if not isinstance(primary_key, str) or primary_key in exclude:
        raise ValueError(f"{where}: `primary_key` must be a column that is not excluded")
    if columns is not None and primary_key not in columns:
        columns = (primary_key, *columns)
    rename = raw.get("rename", {})
    types = raw.get("types", {})
    for key, mapping in (("rename", rename), ("types", types)):
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise ValueError(f"{where}.{key}: expected a table of column = string")
    bad = sorted(v for v in types.values() if v not in TYPES)
    if bad:
        raise ValueError(f"{where}.types: {bad[0]} is not one of {', '.join(TYPES)}")
    soft_delete = raw.get("soft_delete")
    condition = raw.get("where")
    for key, value in (("soft_delete", soft_delete), ("where", condition)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ValueError(f"{where}.{key}: expected a non-empty string")
    return TableConfig(
        table=table,
        index=index,
        primary_key=primary_key,
        columns=columns,
        exclude=exclude,
        rename=dict(rename),
        types=dict(types),
        soft_delete=soft_delete,
        where=condition,
    )
