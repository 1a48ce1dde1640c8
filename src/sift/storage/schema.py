"""The SQL schema: the source of truth for indexes, documents, tasks and keys.

Search indexes are derived from these tables and can always be rebuilt from them.
JSON values are stored as text (settings, details) or bytes (document bodies)
serialised with orjson, so both databases store and return them byte for byte.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite rowids are INTEGER

indexes = sa.Table(
    "indexes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("uid", sa.String(512), nullable=False, unique=True),
    sa.Column("primary_key", sa.String(512), nullable=True),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sqlite_autoincrement=True,
)

# `id` keeps insertion order (Meilisearch lists documents in that order) and
# survives replacement, because upserts update the row in place.
documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("index_id", BigId, sa.ForeignKey("indexes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("doc_id", sa.String(512), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.UniqueConstraint("index_id", "doc_id", name="uq_documents_index_doc"),
    sqlite_autoincrement=True,
)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("uid", BigId, primary_key=True, autoincrement=True),
    sa.Column("batch_uid", BigId, nullable=True),
    sa.Column("index_uid", sa.String(512), nullable=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("details", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("canceled_by", BigId, nullable=True),
    # what the worker needs and the API never shows: method, primary key parameter, ...
    sa.Column("params", sa.Text, nullable=True),
    sa.Column("enqueued_at", sa.DateTime, nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=True),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Index("ix_tasks_status_uid", "status", "uid"),
    sa.Index("ix_tasks_index_uid", "index_uid", "uid"),
    sqlite_autoincrement=True,
)

# Document payloads of enqueued tasks, normalised to NDJSON chunks at request time.
task_payloads = sa.Table(
    "task_payloads",
    metadata,
    sa.Column("task_uid", BigId, sa.ForeignKey("tasks.uid", ondelete="CASCADE"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# API keys. The key itself is derived from the uid and the master key (HMAC), so
# no secret is ever stored.
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("uid", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(512), nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("actions", sa.Text, nullable=False),
    sa.Column("indexes", sa.Text, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Where each batch's time went (`stats.progressTrace` of GET /batches): step path ->
# duration, as JSON text. Batches themselves are derived from the tasks sharing a uid.
batch_traces = sa.Table(
    "batch_traces",
    metadata,
    sa.Column("batch_uid", BigId, primary_key=True, autoincrement=False),
    sa.Column("trace", sa.Text, nullable=False),
)

# Where to POST finished tasks (Meilisearch's /webhooks); headers as a JSON object.
webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("uuid", sa.String(36), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("headers", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# The worker lease (src/sift/cluster/lease.py): one row. `epoch` grows by one each time a
# node takes the lease and fences every write of the worker; `beat` and `renewed_at` (the
# database's clock) move with each heartbeat of the holder, so other nodes see it is
# alive; batch uids are handed out here, in the worker's fenced transactions, so no two
# batches ever share one.
worker_lease = sa.Table(
    "worker_lease",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("epoch", BigId, nullable=False),
    sa.Column("beat", BigId, nullable=False),
    sa.Column("holder", sa.String(128), nullable=True),
    sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("next_batch_uid", BigId, nullable=False),
)

# The network of /network (src/sift/cluster): one row. `topology` is the JSON of remotes,
# shards, leader and `self`; `version` grows by one with each write, so every node sharing
# the database notices a change with one small read; `network_version` is Meilisearch's
# `version` of the network, a UUID each change replaces (a remote takes its leader's).
# (The `network` experimental feature that Meilisearch requires first is a switch in
# `meta`, as every switch: sift.ops.experimental.)
network = sa.Table(
    "network",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("topology", sa.Text, nullable=False),
    sa.Column("version", BigId, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=True),
    sa.Column("network_version", sa.String(36), nullable=True),
)

# Writes the leader still owes a remote with a database of its own (cluster/outbox.py):
# added in the transaction of the task they come from, deleted once the remote answered.
# `id` orders each remote's writes; `due_at` is when its first one is tried next;
# `network_version` the network's version the write was routed under (its origin names it).
network_outbox = sa.Table(
    "network_outbox",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("remote", sa.String(128), nullable=False),
    sa.Column("task_uid", BigId, nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("due_at", sa.DateTime, nullable=False),
    sa.Column("network_version", sa.String(36), nullable=True),
    sa.Index("ix_network_outbox_remote", "remote", "id"),
    sqlite_autoincrement=True,
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# One row per search, for the analytics dashboard. No personal data: no address,
# no user agent, no key; `query` is the text as typed (normalised, truncated).
search_events = sa.Table(
    "search_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.DateTime, nullable=False),
    sa.Column("index_uid", sa.String(512), nullable=False),
    sa.Column("query", sa.String(256), nullable=False),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("processing_ms", sa.Integer, nullable=False),
    # The uid answered in the search's `metadata` (clicks name it), and the visitor's
    # `X-MS-USER-ID`, keyed-hashed unless raw ids are allowed (docs/analytics.md).
    sa.Column("query_uid", sa.String(36), nullable=True),
    sa.Column("user_id", sa.String(128), nullable=True),
    # What the search showed, for the click model to learn from skips: the first page's
    # ids in order (at most SHOWN_IDS, JSON), kept only for searches that answered a uid.
    sa.Column("shown", sa.Text, nullable=True),
    sa.Index("ix_search_events_ts", "ts"),
    sa.Index("ix_search_events_index_ts", "index_uid", "ts"),
    sa.Index("ix_search_events_query_uid", "query_uid"),
    sqlite_autoincrement=True,
)

# Click and conversion events (`POST /events`), Meilisearch's wire format. `query_uid`
# links an event to the search it followed; `user_id` is hashed as in search_events.
insight_events = sa.Table(
    "insight_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.DateTime, nullable=False),
    sa.Column("event_type", sa.String(16), nullable=False),
    sa.Column("event_name", sa.String(256), nullable=False),
    sa.Column("index_uid", sa.String(512), nullable=False),
    sa.Column("user_id", sa.String(128), nullable=False),
    sa.Column("query_uid", sa.String(36), nullable=True),
    sa.Column("object_id", sa.String(512), nullable=True),
    sa.Column("object_name", sa.String(256), nullable=True),
    sa.Column("position", sa.Integer, nullable=True),
    sa.Index("ix_insight_events_index_ts", "index_uid", "ts"),
    sa.Index("ix_insight_events_ts", "ts"),
    sa.Index("ix_insight_events_query_uid", "query_uid"),
    sqlite_autoincrement=True,
)

# Admin dashboard sign-ins. `id` is the SHA-256 of the cookie's random token, so a
# leaked database does not hand out live sessions; `principal` is "master", "open"
# or an API key uid (the key itself is never stored).
admin_sessions = sa.Table(
    "admin_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("principal", sa.String(64), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Index("ix_admin_sessions_expires", "expires_at"),
)

# Embedding cache (semantic search). The key is the hash of what the embedder saw (its
# configuration and the rendered document text), so re-indexing, restarts and unrelated
# settings changes find the vector again instead of recomputing it. Vectors are float32
# little-endian bytes. Rows are only a cache: deleting them costs recomputation, nothing else.
embeddings = sa.Table(
    "embeddings",
    metadata,
    sa.Column(
        "index_id", BigId, sa.ForeignKey("indexes.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("embedder", sa.String(256), primary_key=True),
    sa.Column("content_hash", sa.String(64), primary_key=True),
    sa.Column("vector", sa.LargeBinary, nullable=False),
)

# Sync sources (src/sift/sync): where each source's change stream stands. `position` (the
# binlog file/offset, the LSN, or the change-log ids being acknowledged) and `snapshot`
# (per-table keyset cursors) are JSON; they change in the same transaction as the document
# tasks they produced, which is what makes a change apply exactly once. `version` grows by
# one per commit, so a writer that lost the worker lease cannot overwrite a newer position.
sync_sources = sa.Table(
    "sync_sources",
    metadata,
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("phase", sa.String(32), nullable=False),
    sa.Column("position", sa.Text, nullable=False),
    sa.Column("snapshot", sa.Text, nullable=False),
    sa.Column("stats", sa.Text, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("version", BigId, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

# Rows a source could not turn into documents (the stream went on without them).
sync_row_errors = sa.Table(
    "sync_row_errors",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(256), nullable=False),
    sa.Column("source_table", sa.String(512), nullable=False),
    sa.Column("row_key", sa.String(512), nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Index("ix_sync_row_errors_source", "source", "id"),
    sqlite_autoincrement=True,
)

# Search rules (Meilisearch's /dynamic-search-rules, src/sift/rules): one row per rule,
# the whole rule as JSON. `precedence` and `active` are copies kept as columns so the
# dashboard and GET list order and filter without reading the JSON; the rule applies to
# indexes named in its actions, so there is no index column (a rule may name several).
search_rules = sa.Table(
    "search_rules",
    metadata,
    sa.Column("uid", sa.String(512), primary_key=True),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("precedence", BigId, nullable=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)
