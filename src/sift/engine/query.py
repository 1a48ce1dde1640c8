"""The Meilisearch search request body, parsed and validated once.

Each parameter maps to its own ``invalid_search_*`` error code; unknown fields
are ``bad_request`` as in Meilisearch. Vector-search parameters (``hybrid``,
``vector``, ``retrieveVectors``) are validated for shape and kept for later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sift.engine.corpus.stats import CorpusStats
from sift.engine.curation import Curation
from sift.engine.settings import type_error
from sift.errors import SiftError
from sift.inputs import USIZE, shown, uint_field

FIELD_CODES: Final = {
    "q": "invalid_search_q",
    "offset": "invalid_search_offset",
    "limit": "invalid_search_limit",
    "page": "invalid_search_page",
    "hitsPerPage": "invalid_search_hits_per_page",
    "filter": "invalid_search_filter",
    "facets": "invalid_search_facets",
    "sort": "invalid_search_sort",
    "distinct": "invalid_search_distinct",
    "attributesToRetrieve": "invalid_search_attributes_to_retrieve",
    "attributesToHighlight": "invalid_search_attributes_to_highlight",
    "highlightPreTag": "invalid_search_highlight_pre_tag",
    "highlightPostTag": "invalid_search_highlight_post_tag",
    "attributesToCrop": "invalid_search_attributes_to_crop",
    "cropLength": "invalid_search_crop_length",
    "cropMarker": "invalid_search_crop_marker",
    "showMatchesPosition": "invalid_search_show_matches_position",
    "showRankingScore": "invalid_search_show_ranking_score",
    "showRankingScoreDetails": "invalid_search_show_ranking_score_details",
    "matchingStrategy": "invalid_search_matching_strategy",
    "attributesToSearchOn": "invalid_search_attributes_to_search_on",
    "rankingScoreThreshold": "invalid_search_ranking_score_threshold",
    "hybrid": "invalid_search_hybrid_query",
    "vector": "invalid_search_vector",
    "retrieveVectors": "invalid_search_retrieve_vectors",
    "locales": "invalid_search_locales",
    "showPerformanceDetails": "invalid_search_show_performance_details",
}

QUERY_CHARS = 256  # of a query the search log and click events keep
# More rows than an index has documents (docids are uint32): a page's first row and its
# rows are cut to this, so their sums stay int64 where kernels take them (a usize
# offset, limit, page or hitsPerPage past 2**63 was an OverflowError, a 500).
MAX_PAGE_ROWS: Final = 1 << 40


def page_rows(start: int, count: int) -> tuple[int, int]:
    """(first row, rows) of a page cut to MAX_PAGE_ROWS each: the same hits, as no index
    has that many."""
    return min(start, MAX_PAGE_ROWS), min(count, MAX_PAGE_ROWS)


def normalise_query(q: str) -> str:
    """Queries count as the same when they differ only in case and spacing."""
    return " ".join(q.split()).lower()[:QUERY_CHARS]


@dataclass
class SearchParams:
    q: str | None = None
    offset: int = 0
    limit: int = 20
    page: int | None = None
    hits_per_page: int | None = None
    filter: str | list[Any] | None = None
    facets: list[str] | None = None
    sort: list[str] | None = None
    distinct: str | None = None
    attributes_to_retrieve: list[str] | None = None
    attributes_to_highlight: list[str] | None = None
    highlight_pre_tag: str = "<em>"
    highlight_post_tag: str = "</em>"
    attributes_to_crop: list[str] | None = None
    crop_length: int = 10
    crop_marker: str = "…"
    show_matches_position: bool = False
    show_ranking_score: bool = False
    show_ranking_score_details: bool = False
    matching_strategy: str = "last"
    attributes_to_search_on: list[str] | None = None
    ranking_score_threshold: float | None = None
    hybrid: dict[str, Any] | None = None
    vector: list[float] | None = None
    retrieve_vectors: bool = False
    locales: list[str] | None = None
    show_performance_details: bool = False
    # Not a body field: the statistics of every shard a network search spans, set by the
    # node that coordinates it (engine/corpus/stats.py).
    statistics: CorpusStats | None = None
    # The search rules matching this search (sift.rules): set by the caller, never a
    # body field.
    curation: Curation | None = None

    @property
    def paginated(self) -> bool:
        """Page mode (page/hitsPerPage) rather than offset/limit mode."""
        return self.page is not None or self.hits_per_page is not None

    @classmethod
    def from_dict(cls, body: Any, codes: Mapping[str, str] = FIELD_CODES) -> SearchParams:
        """The parameters of a search ``body``; ``codes``: each accepted field's error
        code (search's, unless a route with fields of its own, such as similar, says)."""
        if not isinstance(body, dict):
            raise type_error("", "an object", body, "bad_request")
        for key in body:
            if key not in codes:
                expected = ", ".join(f"`{k}`" for k in codes)
                raise SiftError(
                    f"Unknown field `{shown(key)}`: expected one of {expected}", "bad_request"
                )
        p = cls()
        get = _Getter(body, codes)
        p.q = get.opt_str("q")
        p.offset = get.uint("offset", 0)
        p.limit = get.uint("limit", 20)
        if body.get("page") is not None:
            p.page = get.uint("page", 1)
        if body.get("hitsPerPage") is not None:
            p.hits_per_page = get.uint("hitsPerPage", 20)
        p.filter = get.filter()
        p.facets = get.str_list("facets")
        p.sort = get.str_list("sort")
        p.distinct = get.opt_str("distinct")
        p.attributes_to_retrieve = get.str_list("attributesToRetrieve")
        p.attributes_to_highlight = get.str_list("attributesToHighlight")
        p.highlight_pre_tag = get.opt_str("highlightPreTag") or ""
        p.highlight_post_tag = get.opt_str("highlightPostTag") or ""
        if "highlightPreTag" not in body:
            p.highlight_pre_tag = "<em>"
        if "highlightPostTag" not in body:
            p.highlight_post_tag = "</em>"
        p.attributes_to_crop = get.str_list("attributesToCrop")
        p.crop_length = get.uint("cropLength", 10)
        marker = get.opt_str("cropMarker")
        p.crop_marker = "…" if "cropMarker" not in body else (marker or "")
        p.show_matches_position = get.boolean("showMatchesPosition")
        p.show_ranking_score = get.boolean("showRankingScore")
        p.show_ranking_score_details = get.boolean("showRankingScoreDetails")
        p.matching_strategy = get.matching_strategy()
        p.attributes_to_search_on = get.str_list("attributesToSearchOn")
        p.ranking_score_threshold = get.threshold()
        p.hybrid = get.hybrid()
        p.vector = get.vector()
        p.retrieve_vectors = get.boolean("retrieveVectors")
        p.locales = get.str_list("locales")
        p.show_performance_details = get.boolean("showPerformanceDetails")
        if p.page == 0 and "page" in body:
            p.page = 0  # Meilisearch answers page 0 with no hits, not an error
        return p


class _Getter:
    """Typed accessors raising the parameter's own error code."""

    def __init__(self, body: dict[str, Any], codes: Mapping[str, str]) -> None:
        self.body = body
        self.codes = codes

    def _err(self, key: str, expected: str) -> SiftError:
        return type_error(key, expected, self.body[key], self.codes[key])

    def opt_str(self, key: str) -> str | None:
        value = self.body.get(key)
        if value is not None and not isinstance(value, str):
            raise self._err(key, "a string")
        return value

    def uint(self, key: str, default: int) -> int:
        value = self.body.get(key)
        if value is None:
            return default
        return uint_field(key, value, USIZE, self.codes[key])

    def boolean(self, key: str) -> bool:
        value = self.body.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self._err(key, "a boolean")
        return value

    def str_list(self, key: str) -> list[str] | None:
        value = self.body.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            raise self._err(key, "an array")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise type_error(f"{key}[{i}]", "a string", item, self.codes[key])
        return list(value)

    def filter(self) -> str | list[Any] | None:
        value = self.body.get("filter")
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, list):
            for item in value:
                ok = isinstance(item, str) or (
                    isinstance(item, list) and all(isinstance(x, str) for x in item)
                )
                if not ok:
                    raise SiftError(
                        "Invalid value type at `.filter`: expected a string or an array of "
                        "strings or arrays of strings.",
                        self.codes["filter"],
                    )
            return value
        raise self._err("filter", "a string or an array")

    def matching_strategy(self) -> str:
        value = self.body.get("matchingStrategy", "last")
        if value not in ("last", "all", "frequency"):
            raise SiftError(
                f"Unknown value `{shown(value)}` at `.matchingStrategy`: expected one of `last`, "
                "`all`, `frequency`",
                "invalid_search_matching_strategy",
            )
        return str(value)

    def threshold(self) -> float | None:
        value = self.body.get("rankingScoreThreshold")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._err("rankingScoreThreshold", "a number")
        if not 0.0 <= value <= 1.0:
            raise SiftError(
                "Invalid value at `.rankingScoreThreshold`: the value of `rankingScoreThreshold` "
                "is invalid, expected a float between `0.0` and `1.0`.",
                self.codes["rankingScoreThreshold"],
            )
        return float(value)

    def hybrid(self) -> dict[str, Any] | None:
        value = self.body.get("hybrid")
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._err("hybrid", "an object")
        ratio = value.get("semanticRatio", 0.5)
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 <= ratio <= 1:
            raise SiftError(
                "Invalid value at `.hybrid.semanticRatio`: the value of `semanticRatio` is "
                "invalid, expected a float between `0.0` and `1.0`.",
                "invalid_search_semantic_ratio",
            )
        return dict(value)

    def vector(self) -> list[float] | None:
        value = self.body.get("vector")
        if value is None:
            return None
        if not isinstance(value, list) or not all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in value
        ):
            raise self._err("vector", "an array of numbers")
        return [float(x) for x in value]
