"""Request bodies as Meilisearch defines them, for the OpenAPI document.

The routes parse bodies themselves, field by field, so each bad field gets Meilisearch's
own error code (a pydantic failure would be FastAPI's 422); these models describe the
same fields, and tests/api/test_openapi.py sends the bodies the API tests use through
them, so the document and the parsers cannot drift apart unnoticed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Filter = str | list[str | list[str]]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SearchQuery(Body):
    q: str | None = None
    offset: int | None = Field(None, ge=0)
    limit: int | None = Field(None, ge=0)
    page: int | None = Field(None, ge=0)
    hitsPerPage: int | None = Field(None, ge=0)
    filter: Filter | None = None
    facets: list[str] | None = None
    sort: list[str] | None = None
    distinct: str | None = None
    attributesToRetrieve: list[str] | None = None
    attributesToHighlight: list[str] | None = None
    highlightPreTag: str | None = None
    highlightPostTag: str | None = None
    attributesToCrop: list[str] | None = None
    cropLength: int | None = Field(None, ge=0)
    cropMarker: str | None = None
    showMatchesPosition: bool | None = None
    showRankingScore: bool | None = None
    showRankingScoreDetails: bool | None = None
    matchingStrategy: str | None = Field(None, pattern="^(last|all|frequency)$")
    attributesToSearchOn: list[str] | None = None
    rankingScoreThreshold: float | None = Field(None, ge=0, le=1)
    hybrid: dict[str, Any] | None = None
    vector: list[float] | None = None
    retrieveVectors: bool | None = None
    locales: list[str] | None = None
    showPerformanceDetails: bool | None = None
    useNetwork: bool | None = None


class SearchStatistics(Body):
    query: SearchQuery
    shards: list[str] | None = None


class MultiSearchQuery(SearchQuery):
    indexUid: str
    federationOptions: dict[str, Any] | None = None


class MultiSearch(Body):
    queries: list[MultiSearchQuery]
    federation: dict[str, Any] | None = None


class FacetSearch(Body):
    model_config = ConfigDict(extra="allow")  # any search parameter narrows the facet hits
    facetName: str
    facetQuery: str | None = None
    q: str | None = None
    filter: Filter | None = None
    exhaustiveFacetCount: bool | None = None


class Similar(Body):
    id: str | int
    embedder: str
    offset: int | None = Field(None, ge=0)
    limit: int | None = Field(None, ge=0)
    filter: Filter | None = None
    attributesToRetrieve: list[str] | None = None
    showRankingScore: bool | None = None
    showRankingScoreDetails: bool | None = None
    rankingScoreThreshold: float | None = Field(None, ge=0, le=1)
    retrieveVectors: bool | None = None
    showPerformanceDetails: bool | None = None


class DocumentsFetch(Body):
    offset: int | None = Field(None, ge=0)
    limit: int | None = Field(None, ge=0)
    fields: list[str] | None = None
    filter: Filter | None = None
    retrieveVectors: bool | None = None
    ids: list[str | int] | None = None
    sort: list[str] | None = None
    useNetwork: bool | None = Field(
        None, description="The documents of every shard (`true`) or of this node "
        "(`false`); omitted: `true` when the network has a leader.")


class DeleteByFilter(Body):
    filter: Filter


class IndexCreate(Body):
    uid: str = Field(pattern="^[A-Za-z0-9_-]{1,400}$")
    primaryKey: str | None = None


class IndexUpdate(Body):
    uid: str | None = Field(None, pattern="^[A-Za-z0-9_-]{1,400}$")
    primaryKey: str | None = None


class Swap(Body):
    indexes: list[str] = Field(min_length=2, max_length=2)
    rename: bool | None = None


class IndexFields(Body):
    offset: int | None = Field(None, ge=0)
    limit: int | None = Field(None, ge=0)
    filter: dict[str, Any] | None = None


class KeyCreate(Body):
    actions: list[str]
    indexes: list[str]
    expiresAt: str | None
    name: str | None = None
    description: str | None = None
    uid: str | None = None


class KeyUpdate(Body):
    name: str | None = None
    description: str | None = None


class InsightEvent(Body):
    """A click or a conversion (`POST /events`); `userId` may come in `X-MS-USER-ID`."""

    eventType: Literal["click", "conversion"]
    eventName: str = Field(min_length=1, max_length=256)
    indexUid: str
    userId: str | None = Field(None, max_length=128)
    queryUid: str | None = None
    objectId: str | int | None = None
    objectName: str | None = Field(None, max_length=256)
    position: int | None = Field(None, ge=0)


class SuggestionRuleUpdate(Body):
    """`PATCH /indexes/{uid}/query-suggestions`; `destination` is needed the first time."""

    destination: str | None = None
    maxQueries: int | None = Field(None, ge=1, le=100_000)
    minSearches: int | None = Field(None, ge=1)
    windowDays: int | None = Field(None, ge=1, le=3650)


class WebhookCreate(Body):
    url: str
    headers: dict[str, str | None] | None = None


class WebhookUpdate(Body):
    url: str | None = None
    headers: dict[str, str | None] | None = None


class SettingsUpdate(Body):
    """Every setting; `null` resets one to its default."""

    model_config = ConfigDict(extra="forbid")
    displayedAttributes: list[str] | None = None
    searchableAttributes: list[str] | None = None
    filterableAttributes: list[str | dict[str, Any]] | None = None
    sortableAttributes: list[str] | None = None
    rankingRules: list[str] | None = None
    stopWords: list[str] | None = None
    nonSeparatorTokens: list[str] | None = None
    separatorTokens: list[str] | None = None
    dictionary: list[str] | None = None
    synonyms: dict[str, list[str]] | None = None
    distinctAttribute: str | None = None
    proximityPrecision: str | None = None
    typoTolerance: dict[str, Any] | None = None
    faceting: dict[str, Any] | None = None
    pagination: dict[str, Any] | None = None
    embedders: dict[str, Any] | None = None
    searchCutoffMs: int | None = Field(None, ge=0)
    localizedAttributes: list[dict[str, Any]] | None = None
    facetSearch: bool | None = None
    prefixSearch: str | None = None
    foreignKeys: list[dict[str, Any]] | None = None
    chat: dict[str, Any] | None = None
    clickRanking: dict[str, Any] | None = None  # Sift's: {"enabled": bool}


class RemoteUpdate(Body):
    url: str | None = None
    searchApiKey: str | None = None
    writeApiKey: str | None = None


class ShardUpdate(Body):
    remotes: list[str] | None = None
    addRemotes: list[str] | None = None
    removeRemotes: list[str] | None = None


class NetworkUpdate(Body):
    self_: str | None = Field(None, alias="self")
    leader: str | None = None
    remotes: dict[str, RemoteUpdate | None] | None = None
    shards: dict[str, ShardUpdate | None] | None = None
    # Only in the topology the leader sends (with its origin headers): a client's
    # PATCH is refused with `invalid_network_version`.
    version: str | None = Field(None, description="The leader's network version (a UUID)")


class ControlOrigin(Body):
    remoteName: str
    taskUid: int = Field(ge=0)
    networkVersion: str | None = Field(None, description="a UUID")


class ControlMessage(Body):
    type: str = Field(description="`exportNoIndexForRemote` (the only type Sift takes)")
    remote: str


class NetworkControl(Body):
    origin: ControlOrigin
    message: ControlMessage


class ExperimentalFeatures(Body):
    model_config = ConfigDict(extra="forbid")
    metrics: bool | None = None
    logsRoute: bool | None = None
    editDocumentsByFunction: bool | None = None
    containsFilter: bool | None = None
    network: bool | None = None
    getTaskDocumentsRoute: bool | None = None
    compositeEmbedders: bool | None = None
    chatCompletions: bool | None = None
    multimodal: bool | None = None
    vectorStoreSetting: bool | None = None
    renderRoute: bool | None = None
    dynamicSearchRules: bool | None = None


class RenderTemplateSource(Body):
    """The template: `kind` says which, and which other fields it takes."""

    kind: Literal[
        "documentTemplate", "chatDocumentTemplate", "inlineDocumentTemplate", "inlineFragment",
        "searchFragment", "indexingFragment",
    ]
    indexUid: str | None = None
    embedder: str | None = None
    fragment: str | None = None
    inline: Any = None
    documentTemplateMaxBytes: int | None = Field(None, gt=0)


class RenderInput(Body):
    """What the template is rendered on: `kind` says which, and which fields it takes."""

    kind: Literal["indexDocument", "inlineDocument", "inlineSearch"]
    indexUid: str | None = None
    id: str | int | None = None
    inline: dict[str, Any] | None = None


class RenderTemplate(Body):
    template: RenderTemplateSource
    input: RenderInput | None = None


Documents = list[dict[str, Any]] | dict[str, Any]
DocumentIds = list[str | int]
SwapList = list[Swap]
OneSetting = list[Any] | dict[str, Any] | str | int | bool | None  # the setting the path names


class SearchRulePin(Body):
    id: str
    position: int
    indexUid: str | None = None


class SearchRuleScale(Body):
    """weight > 1 boosts, < 1 demotes, 0 hides; selects `ids`, or documents matching
    `filter`, or every document of `indexUid`."""

    weight: float
    ids: list[str] | None = None
    filter: str | list[Any] | None = None
    indexUid: str | None = None


class SearchRuleActions(Body):
    pin: list[SearchRulePin] | None = None
    scale: list[SearchRuleScale] | None = None


class SearchRuleQueryCondition(Body):
    isEmpty: bool | None = None
    words: str | None = None


class SearchRuleTimeCondition(Body):
    start: str | None = None
    end: str | None = None


class SearchRuleConditions(Body):
    query: SearchRuleQueryCondition | None = None
    time: SearchRuleTimeCondition | None = None


class SearchRuleUpdate(Body):
    """A partial rule: given fields replace the stored ones, `null` resets one."""

    description: str | None = None
    precedence: int | None = None
    active: bool | None = None
    conditions: SearchRuleConditions | None = None
    actions: SearchRuleActions | None = None


class SearchRuleListFilter(Body):
    query: str | None = None
    active: bool | None = None


class SearchRuleListQuery(Body):
    offset: int | None = None
    limit: int | None = None
    filter: SearchRuleListFilter | None = None
