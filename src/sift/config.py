"""Every server setting, declared once.

A :class:`Setting` carries its name, type, default and help. The CLI builds its
flags from this table, the environment variables are ``SIFT_<NAME>``, a
``sift.toml`` file may set any of them, and docs/configuration.md documents
them (a test checks that every setting is documented). Precedence:
flags > ``SIFT_*`` environment > ``sift.toml`` > defaults.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sift.errors import SiftError


@dataclass(frozen=True)
class Setting:
    name: str  # snake_case; flag --name-with-dashes, env SIFT_NAME
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    secret: bool = False  # never logged or shown
    check: Callable[[Any], None] | None = None  # raises ValueError on a bad value

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return "SIFT_" + self.name.upper()

    def parse(self, raw: Any) -> Any:
        """Convert a value from the environment or a TOML file to this setting's type."""
        if raw is None:
            return None
        if self.type is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(f"{self.name}: expected a boolean, got {raw!r}")
        value = self.type(raw)
        if self.choices and value not in self.choices:
            raise ValueError(f"{self.name}: expected one of {', '.join(self.choices)}, got {raw!r}")
        if self.check is not None:
            try:
                self.check(value)
            except ValueError as exc:
                raise ValueError(f"{self.name}: {exc}") from None
        return value


def split_list(value: str | None) -> list[str]:
    """A comma-separated setting as its items."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _check_not_negative(value: float) -> None:
    if value < 0:
        raise ValueError("must be 0 or more")


def _check_quota(value: str) -> None:
    """A token-bucket quota in throttled-py's notation (`100/s burst 200`), or `off`."""
    if value.strip().lower() in ("", "off"):
        return
    from throttled.exceptions import DataError
    from throttled.rate_limiter.quota_parser import parse

    try:
        quotas = parse(value)
    except DataError as exc:
        raise ValueError(str(exc)) from None
    if len(quotas) != 1:
        raise ValueError(f"expected one rate such as `100/s burst 200`, got {value!r}")
    if quotas[0].burst < 1:
        raise ValueError(f"a burst of at least 1 is needed (0 refuses everything): {value!r}")


def _check_interval(value: float) -> None:
    if not value > 0:
        raise ValueError("expected a number of seconds above 0")


def _check_networks(value: str) -> None:
    for item in split_list(value):
        if item != "*":
            try:
                ipaddress.ip_network(item)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None


def _check_origins(value: str) -> None:
    for item in split_list(value):
        scheme, sep, host = item.partition("://")
        is_origin = scheme in ("http", "https") and sep and host and "/" not in host
        if item != "*" and not is_origin:
            raise ValueError(f"{item!r} is not `*` or an origin such as https://www.example.com")


SETTINGS: tuple[Setting, ...] = (
    Setting("host", str, "127.0.0.1", "Address the HTTP server binds to."),
    Setting("port", int, 7700, "TCP port of the HTTP server."),
    Setting(
        "data_dir",
        str,
        "./sift-data",
        "Directory for the SQLite database and derived search indexes.",
    ),
    Setting(
        "database_url",
        str,
        None,
        "SQLAlchemy URL of the source-of-truth database. Default: SQLite file in the data "
        "directory. Use postgresql://user@host/db for PostgreSQL.",
        secret=True,
    ),
    Setting(
        "master_key",
        str,
        None,
        "Master key protecting the API (at least 16 bytes). Without it Sift runs open. Give "
        "it through the environment or `master_key_file`: a command line is visible to every "
        "user of the machine (`ps`).",
        secret=True,
    ),
    Setting(
        "master_key_file",
        str,
        None,
        "File whose content (one line, surrounding whitespace removed) is the master key, "
        "e.g. a systemd credential. Not together with `master_key`.",
    ),
    Setting(
        "env",
        str,
        "production",
        "`production` or `development`. Development accepts a master key shorter than 16 "
        "bytes, as Meilisearch's development env does, for SDK test suites (`masterKey`).",
        choices=("production", "development"),
    ),
    Setting("workers", int, 1, "Number of HTTP worker processes."),
    Setting(
        "server",
        str,
        "uvicorn",
        "HTTP server: `uvicorn`, or `granian` (a Rust HTTP server, the `granian` extra; more "
        "requests per second under concurrent load, see docs/deployment.md).",
        choices=("uvicorn", "granian"),
    ),
    Setting("log_level", str, "info", "Log level.", choices=("debug", "info", "warning", "error")),
    Setting(
        "index_defaults",
        str,
        "sift",
        "Settings new indexes start from: `sift` (Sift's ranking) or `meilisearch` "
        "(exactly Meilisearch's defaults, for Meilisearch clients and test suites).",
        choices=("sift", "meilisearch"),
    ),
    Setting(
        "max_payload_bytes",
        int,
        100 * 1024 * 1024,
        "Largest accepted request body in bytes; larger ones get `payload_too_large` (413).",
    ),
    Setting(
        "batch_size",
        int,
        5000,
        "Documents written per database batch while processing a task; bounds worker memory.",
    ),
    Setting(
        "redis_url",
        str,
        None,
        "Redis URL (redis://host:6379/0) for cross-node notifications and rate limits shared "
        "by every process and node. Optional.",
        secret=True,
    ),
    Setting(
        "redis_prefix",
        str,
        "sift",
        "Prefix of Sift's Redis channel and keys, so several Sift clusters can share a Redis.",
    ),
    Setting(
        "trusted_proxies",
        str,
        "127.0.0.1,::1",
        "Comma-separated addresses or networks (10.0.0.0/8) of reverse proxies whose "
        "`X-Forwarded-For` and `X-Forwarded-Proto` headers are believed; empty: none. `*` "
        "trusts every peer and takes the first `X-Forwarded-For` address: only when nothing "
        "but a proxy that replaces that header can reach Sift.",
        check=_check_networks,
    ),
    Setting(
        "cors_origins",
        str,
        "*",
        "Origins whose pages may call the API from a browser: `*` (any, as Meilisearch) or a "
        "comma-separated list such as `https://www.example.com,https://example.com`.",
        check=_check_origins,
    ),
    Setting(
        "rate_limit_per_address",
        str,
        "off",
        "Token bucket per client address, for every request: `100/s burst 200` (100 a "
        "second on average, bursts of 200), `600/m`, or `off`.",
        check=_check_quota,
    ),
    Setting(
        "rate_limit_per_key",
        str,
        "off",
        "Token bucket per API key (a tenant token counts on its own; the master key is not "
        "limited): `50/s burst 100`, or `off`.",
        check=_check_quota,
    ),
    Setting(
        "rate_limit_auth_failures",
        str,
        "20/m burst 20",
        "Token bucket of failed authentications (unknown API keys, tenant tokens, dashboard "
        "sign-ins) per client address; an address without tokens left gets 429 before its "
        "key is compared (docs/api.md#rate-limits). `off` turns it off.",
        check=_check_quota,
    ),
    Setting(
        "search_threads",
        int,
        2,
        "Searches one worker process runs at once. Searches hold Python's GIL, so more "
        "threads only add contention: measured, 40 threads halved throughput at 64 "
        "connections against 1-2.",
    ),
    Setting(
        "search_inline_ms",
        float,
        1.0,
        "A search runs on the event loop instead of a search thread when searches like it "
        "(same index, number of words, filter, facets, sort and page) recently took at most "
        "this many milliseconds: the hand-off to a thread costs ~0.2 ms. Searches like it "
        "also run inline while they take less than a thread's recent round trip costs beyond "
        "the search (it grows beside many small requests, such as click events), up to 10 "
        "ms; one in 16 of those still goes to a thread to measure it again. Inline searches "
        "run one at a time and are not counted in `search_threads`. 0 sends every search to "
        "a thread.",
        check=_check_not_negative,
    ),
    Setting(
        "lease_timeout",
        float,
        5.0,
        "Seconds without a heartbeat from the node running the task worker after which "
        "another node sharing its PostgreSQL database takes over (heartbeats go every fifth "
        "of it). Shorter fails over sooner; too short for the database's latency makes "
        "healthy leaders change hands.",
    ),
    Setting(
        "network_self",
        str,
        None,
        "This node's name in the /network topology. Nodes sharing one database share the "
        "stored topology, so each names itself here; unset, the stored `self` is used.",
    ),
    Setting(
        "network_timeout",
        float,
        5.0,
        "Seconds a search sent to another node of the network (`useNetwork`) may take "
        "before that node's shards are asked of a replica instead.",
    ),
    Setting("timeout_keep_alive", int, 5, "Seconds an idle HTTP keep-alive connection stays open."),
    Setting(
        "graceful_timeout",
        int,
        30,
        "Seconds to let in-flight requests finish on shutdown before closing connections.",
    ),
    Setting(
        "dump_dir",
        str,
        None,
        "Directory `POST /dumps` writes `<dumpUid>.dump` files to. Default: `dumps` in the "
        "data directory.",
    ),
    Setting(
        "snapshot_dir",
        str,
        None,
        "Directory `POST /snapshots` writes `<uid>.snapshot` files to (SQLite only). "
        "Default: `snapshots` in the data directory.",
    ),
    Setting(
        "task_webhook_url",
        str,
        None,
        "URL every finished batch of tasks is POSTed to (NDJSON, gzip), besides the webhooks "
        "made through /webhooks; shown there with the nil UUID and `isEditable: false`.",
    ),
    Setting(
        "task_webhook_authorization_header",
        str,
        None,
        "`Authorization` header value sent to `task_webhook_url`.",
        secret=True,
    ),
    Setting("config_file", str, "sift.toml", "TOML file with settings (read if it exists)."),
    Setting(
        "no_index_images",
        bool,
        False,
        "Always rebuild the indexes from the database at start. By default each index's "
        "in-memory image is written to `<data_dir>/images` at shutdown and the next start "
        "loads it instead of rebuilding when it holds exactly the documents and settings "
        "the database holds (every stored document is read and hashed to check).",
    ),
    Setting(
        "no_analytics",
        bool,
        False,
        "Do not record searches, clicks or conversions (`POST /events` is then refused).",
    ),
    Setting(
        "analytics_retention_days",
        int,
        30,
        "Days search analytics (searches, clicks, conversions) are kept; older rows are "
        "purged hourly.",
    ),
    Setting(
        "query_suggestions_interval",
        float,
        60.0,
        "Seconds between refreshes of the query suggestions indexes "
        "(`/indexes/{uid}/query-suggestions`), on the node running the task worker.",
    ),
    Setting(
        "click_model_interval",
        float,
        60.0,
        "Seconds between rebuilds of the click models of indexes whose `clickRanking` "
        "setting is on (docs/ranking.md#clicks), on every node.",
        check=_check_interval,
    ),
    Setting(
        "analytics_raw_user_ids",
        bool,
        False,
        "Store visitors' user ids (`X-MS-USER-ID`, an event's `userId`) as sent; by default "
        "they are stored keyed-hashed.",
    ),
    Setting(
        "demo",
        bool,
        False,
        "On an empty database, create the `cities` demo index from the bundled GeoNames data.",
    ),
    Setting(
        "ui_index",
        str,
        None,
        "Index the search page at `/` searches. Default: `cities` if it exists, else the "
        "first index.",
    ),
    Setting(
        "ui_dir",
        str,
        None,
        "Directory whose `templates/` and `static/` override the built-in search page and "
        "dashboard files of the same name.",
    ),
)

SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}

# Tables of sift.toml that are not scalar settings: each is parsed by the package that owns
# it (`[[sources]]`: sift.sync, docs/sync.md), which is also where they are documented.
SECTIONS: tuple[str, ...] = ("sources",)


@dataclass
class Config:
    """Resolved settings. Attribute names are the settings' names."""

    values: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)  # raw SECTIONS from the file

    def __post_init__(self) -> None:
        # Each setting as a plain attribute too: found by Python's ordinary lookup, where
        # ``__getattr__`` (tried only once that lookup has failed, which in CPython 3.11
        # costs an AttributeError made and dropped) took ~1.5-3 µs a read; the search
        # path reads two a request (sift/http/app_state.py says more).
        for name, value in self.values.items():
            if name not in self.__dict__ and not hasattr(type(self), name):  # as before: a
                self.__dict__[name] = value  # field or method of the class wins

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def resolved_database_url(self) -> str:
        if self.values.get("database_url"):
            return str(self.values["database_url"])
        path = Path(self.values["data_dir"]).resolve() / "sift.db"
        return f"sqlite:///{path}"

    def public(self) -> dict[str, Any]:
        """Settings safe to log: secrets are masked."""
        return {
            s.name: ("***" if s.secret and self.values.get(s.name) else self.values.get(s.name))
            for s in SETTINGS
        }


def load_config(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Resolve every setting: overrides (CLI flags) > environment > TOML file > default.

    ``overrides`` holds only the values the user actually gave; ``None`` means "not given".
    """
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    environ = os.environ if environ is None else environ
    unknown = set(overrides) - set(SETTINGS_BY_NAME)
    if unknown:
        raise SiftError(f"unknown settings: {', '.join(sorted(unknown))}", "bad_request")

    config_file = overrides.get("config_file") or environ.get("SIFT_CONFIG_FILE") or "sift.toml"
    file_values: dict[str, Any] = {}
    path = Path(config_file)
    if path.is_file():
        with path.open("rb") as fh:
            file_values = tomllib.load(fh)
        bad = set(file_values) - set(SETTINGS_BY_NAME) - set(SECTIONS)
        if bad:
            raise ValueError(f"{path}: unknown settings {', '.join(sorted(bad))}")

    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            values[setting.name] = setting.parse(overrides[setting.name])
        elif setting.env in environ:
            values[setting.name] = setting.parse(environ[setting.env])
        elif setting.name in file_values:
            values[setting.name] = setting.parse(file_values[setting.name])
        else:
            values[setting.name] = setting.default
    if values.get("master_key_file"):
        if values.get("master_key") is not None:
            raise ValueError("give the master key or a master key file, not both")
        values["master_key"] = _read_key_file(Path(values["master_key_file"]))
    master_key = values.get("master_key")
    if master_key is not None and len(master_key.encode()) < 16 and values["env"] == "production":
        raise ValueError("the master key must be at least 16 bytes long")
    if values["network_timeout"] <= 0:
        raise ValueError("network_timeout must be a positive number of seconds")
    if values["lease_timeout"] <= 0:
        raise ValueError("lease_timeout must be a positive number of seconds")
    return Config(values, {k: file_values[k] for k in SECTIONS if k in file_values})


def _read_key_file(path: Path) -> str:
    try:
        key = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the master key file {path}: {exc}") from None
    if not key or "\n" in key:
        raise ValueError(f"the master key file {path} must hold the key on one line")
    return key
