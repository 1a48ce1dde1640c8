"""Response bodies in Meilisearch's wire format, for the OpenAPI document. Extra fields
are allowed (Meilisearch adds fields between versions); tests/api/test_openapi.py
validates real answers of the API against them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class Error(Answer):
    message: str
    code: str
    type: str
    link: str


class TaskSummary(Answer):
    taskUid: int
    indexUid: str | None
    status: str
    type: str
    enqueuedAt: str


class Task(Answer):
    uid: int
    batchUid: int | None
    indexUid: str | None
    status: str
    type: str
    canceledBy: int | None
    details: dict[str, Any] | None
    error: Error | None
    duration: str | None
    enqueuedAt: str
    startedAt: str | None
    finishedAt: str | None
    # Only on tasks of a sharded network: `remoteTasks` and `networkVersion` (the
    # leader's) or `origin` ({remoteName, taskUid, networkVersion}: a forwarded one's).
    network: dict[str, Any] | None = None


class Page(Answer):
    total: int
    limit: int


class TaskPage(Page):
    results: list[Task]
    next: int | None


class Batch(Answer):
    uid: int
    progress: dict[str, Any] | None
    details: dict[str, Any]
    stats: dict[str, Any]
    duration: str | None
    startedAt: str | None
    finishedAt: str | None


class BatchPage(Page):
    results: list[Batch]
    next: int | None


class Index(Answer):
    uid: str
    createdAt: str | None
    updatedAt: str | None
    primaryKey: str | None


class IndexPage(Page):
    results: list[Index]
    offset: int


class DocumentPage(Page):
    results: list[dict[str, Any]]
    offset: int


class FieldPage(Page):
    results: list[dict[str, Any]]
    offset: int


class SearchMetadata(Answer):
    """With `Meili-Include-Metadata: true`: the uid `POST /events` links clicks to."""

    queryUid: str
    indexUid: str
    primaryKey: str | None = None
    query: str | None = None


class SearchResult(Answer):
    hits: list[dict[str, Any]]
    query: str | None = None
    processingTimeMs: int
    metadata: SearchMetadata | None = None


class MultiSearchResult(Answer):
    """`results` per query, or the merged `hits` of a federated search."""

    results: list[dict[str, Any]] | None = None
    hits: list[dict[str, Any]] | None = None
    metadata: list[SearchMetadata | None] | None = None  # federated, per query


class FacetSearchResult(Answer):
    facetHits: list[dict[str, Any]]
    facetQuery: str | None
    processingTimeMs: int


class SimilarResult(Answer):
    hits: list[dict[str, Any]]
    id: str
    processingTimeMs: int


class Key(Answer):
    name: str | None
    description: str | None
    key: str
    uid: str
    actions: list[str]
    indexes: list[str]
    expiresAt: str | None
    createdAt: str
    updatedAt: str


class KeyPage(Page):
    results: list[Key]
    offset: int


class Webhook(Answer):
    uuid: str
    url: str
    headers: dict[str, str]
    isEditable: bool


class WebhookList(Answer):
    results: list[Webhook]


class Health(Answer):
    status: str


class Version(Answer):
    commitSha: str
    commitDate: str
    pkgVersion: str


class IndexStats(Answer):
    numberOfDocuments: int
    isIndexing: bool
    fieldDistribution: dict[str, int]


class Stats(Answer):
    databaseSize: int | str
    lastUpdate: str | None
    indexes: dict[str, IndexStats]


class Settings(Answer):
    """Every setting with its current value."""


class NetworkRemote(Answer):
    url: str
    searchApiKey: str | None
    writeApiKey: str | None
    status: str


class NetworkShard(Answer):
    remotes: list[str]


class CorpusStatistics(Answer):
    documents: int
    fields: dict[str, list[int]]
    words: list[list[int]]


class Network(Answer):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    self_: str | None = Field(alias="self")
    leader: str | None
    remotes: dict[str, NetworkRemote]
    shards: dict[str, NetworkShard]
    version: str = Field(description="a UUID each change of the network replaces")


class Features(Answer):
    metrics: bool


class RenderedTemplate(Answer):
    template: Any  # the template as stored or given: text, or a fragment's JSON
    rendered: Any  # null without an input


class Analytics(Answer):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    to: str
    index: list[str] | None


Setting = list[Any] | dict[str, Any] | str | int | bool | None  # one setting's value

Document = dict[str, Any]  # one stored document, as it was sent


class SourceTable(Answer):
    table: str
    index: str


class SnapshotProgress(Answer):
    done: int
    total: int | None
    finished: bool | None


class Source(Answer):
    """A sync source (docs/sync.md); GET /sources/{name} adds its recent row errors."""

    name: str
    kind: str
    capture: str
    url: str
    state: str
    tables: list[SourceTable]
    position: Any
    snapshot: dict[str, SnapshotProgress]
    lagMs: int | None
    lagRows: int | None
    lagBytes: int | None
    rowsApplied: int
    rowsPerSecond: float | None
    lastError: Any
    recentRowErrors: list[dict[str, Any]] | None = None


class SourceList(Answer):
    results: list[Source]
    total: int


class SourceResnapshot(Answer):
    name: str
    state: str


class SuggestionRule(Answer):
    source: str
    destination: str
    maxQueries: int
    minSearches: int
    windowDays: int


class SearchRule(Answer):
    uid: str
    description: str | None
    precedence: int | None
    active: bool
    conditions: dict[str, Any]
    actions: dict[str, Any]
    lastUpdatedAt: str | None


class SearchRuleList(Answer):
    results: list[SearchRule]
    offset: int
    limit: int
    total: int
