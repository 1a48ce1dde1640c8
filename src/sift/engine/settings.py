"""Index settings in Meilisearch's wire format: defaults, validation, patching.

Settings travel as camelCase dicts exactly as the HTTP API shows them, so the
server can store and return them without translation. Two default sets exist:
``"meilisearch"`` reproduces Meilisearch's defaults for drop-in compatibility,
``"sift"`` swaps the bucket-sort ranking rules for Sift's scored ``relevance``
rule (see docs/ranking.md).
"""

from __future__ import annotations

import copy
import re
from typing import Any, Final

from sift.errors import SiftError
from sift.inputs import kind_of as describe
from sift.inputs import shown

# Meilisearch >= 1.19 splits "attribute" into "attributeRank" and "wordPosition" around "sort".
MEILI_RANKING_RULES: Final = [
    "words",
    "typo",
    "proximity",
    "attributeRank",
    "sort",
    "wordPosition",
    "exactness",
]
# "sort" first: an explicit sort parameter is a user's stated intent; without one
# the rule is a no-op and the continuous relevance score decides alone.
SIFT_RANKING_RULES: Final = ["sort", "relevance"]
BUILTIN_RULES: Final = frozenset(
    {
        "words",
        "typo",
        "proximity",
        "attribute",
        "attributeRank",
        "wordPosition",
        "sort",
        "exactness",
        "relevance",
    }
)
_CUSTOM_RULE = re.compile(r"^(.+):(asc|desc)$")

_BASE: Final[dict[str, Any]] = {
    "displayedAttributes": ["*"],
    "searchableAttributes": ["*"],
    "filterableAttributes": [],
    "sortableAttributes": [],
    "rankingRules": MEILI_RANKING_RULES,
    "stopWords": [],
    "nonSeparatorTokens": [],
    "separatorTokens": [],
    "dictionary": [],
    "synonyms": {},
    "distinctAttribute": None,
    "proximityPrecision": "byWord",
    "typoTolerance": {
        "enabled": True,
        "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
        "disableOnWords": [],
        "disableOnAttributes": [],
        "disableOnNumbers": False,
    },
    "faceting": {"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "alpha"}},
    "pagination": {"maxTotalHits": 1000},
    "embedders": {},
    "searchCutoffMs": None,
    "localizedAttributes": None,
    "facetSearch": True,
    "prefixSearch": "indexingTime",
    "foreignKeys": [],
    # Sift's: re-rank with what visitors click (docs/ranking.md#clicks); opt-in.
    "clickRanking": {"enabled": False},
    # Stored and returned only: Sift has no conversational search, but SDKs read it back.
    "chat": {
        "description": "",
        "documentTemplate": (
            "{% for field in fields %}{% if field.is_searchable and field.value != nil %}"
            "{{ field.name }}: {{ field.value }}\n{% endif %}{% endfor %}"
        ),
        "documentTemplateMaxBytes": 400,
        "searchParameters": {},
    },
}

_CODES: Final = {
    "displayedAttributes": "invalid_settings_displayed_attributes",
    "searchableAttributes": "invalid_settings_searchable_attributes",
    "filterableAttributes": "invalid_settings_filterable_attributes",
    "sortableAttributes": "invalid_settings_sortable_attributes",
    "rankingRules": "invalid_settings_ranking_rules",
    "stopWords": "invalid_settings_stop_words",
    "nonSeparatorTokens": "invalid_settings_non_separator_tokens",
    "separatorTokens": "invalid_settings_separator_tokens",
    "dictionary": "invalid_settings_dictionary",
    "synonyms": "invalid_settings_synonyms",
    "distinctAttribute": "invalid_settings_distinct_attribute",
    "proximityPrecision": "invalid_settings_proximity_precision",
    "typoTolerance": "invalid_settings_typo_tolerance",
    "faceting": "invalid_settings_faceting",
    "pagination": "invalid_settings_pagination",
    "embedders": "invalid_settings_embedders",
    "searchCutoffMs": "invalid_settings_search_cutoff_ms",
    "localizedAttributes": "invalid_settings_localized_attributes",
    "facetSearch": "invalid_settings_facet_search",
    "prefixSearch": "invalid_settings_prefix_search",
    "foreignKeys": "invalid_settings_foreign_keys",
    "chat": "invalid_settings_chat",
    "clickRanking": "invalid_settings_click_ranking",
}


def default_settings(mode: str = "sift") -> dict[str, Any]:
    """A fresh copy of the default settings for ``mode`` ("meilisearch" or "sift")."""
    if mode not in ("meilisearch", "sift"):
        raise ValueError(f"unknown settings mode {mode!r}")
    settings = copy.deepcopy(_BASE)
    if mode == "sift":
        settings["rankingRules"] = list(SIFT_RANKING_RULES)
    return settings


def with_defaults(settings: dict[str, Any], mode: str = "sift") -> dict[str, Any]:
    """``settings`` completed with the defaults of settings added since it was stored."""
    return {**default_settings(mode), **settings}


def type_error(path: str, expected: str, value: Any, code: str) -> SiftError:
    return SiftError(
        f"Invalid value type at `.{path}`: expected {expected}, but found {describe(value)}: "
        f"`{shown(value)}`",
        code,
    )


def _str_list(key: str, value: Any, code: str) -> list[str]:
    if not isinstance(value, list):
        raise type_error(key, "an array", value, code)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise type_error(f"{key}[{i}]", "a string", item, code)
    return list(value)


def _check_rules(value: Any) -> list[str]:
    code = _CODES["rankingRules"]
    rules = _str_list("rankingRules", value, code)
    for i, rule in enumerate(rules):
        if rule in BUILTIN_RULES or _CUSTOM_RULE.match(rule):
            continue
        raise SiftError(
            f"Invalid value at `.rankingRules[{i}]`: `{rule}` ranking rule is invalid. Valid "
            "ranking rules are words, typo, sort, proximity, attribute, exactness, relevance "
            "and custom ranking rules.",
            code,
        )
    return rules


def _check_synonyms(value: Any) -> dict[str, list[str]]:
    code = _CODES["synonyms"]
    if not isinstance(value, dict):
        raise type_error("synonyms", "an object", value, code)
    for key, syns in value.items():
        _str_list(f"synonyms.{key}", syns, code)
    return dict(value)


def _check_object(key: str, value: Any, fields: dict[str, Any], code: str) -> dict[str, Any]:
    """Validate a nested settings object; ``fields`` maps name -> checker(path, v)."""
    if not isinstance(value, dict):
        raise type_error(key, "an object", value, code)
    out: dict[str, Any] = {}
    for name, item in value.items():
        if name not in fields:
            expected = ", ".join(f"`{f}`" for f in fields)
            raise SiftError(
                f"Unknown field `{name}` inside `.{key}`: expected one of {expected}", code
            )
        out[name] = None if item is None else fields[name](f"{key}.{name}", item)
    return out


def _bool(code: str) -> Any:
    def check(path: str, v: Any) -> bool:
        if not isinstance(v, bool):
            raise type_error(path, "a boolean", v, code)
        return v

    return check


def _uint(code: str, limit: int | None = None) -> Any:
    def check(path: str, v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise type_error(path, "a positive integer", v, code)
        return v if limit is None else min(v, limit)

    return check


def _strs(code: str) -> Any:
    return lambda path, v: _str_list(path, v, code)


def _check_typo(value: Any) -> dict[str, Any]:
    code = _CODES["typoTolerance"]
    sizes = lambda path, v: _check_object(  # noqa: E731
        path, v, {"oneTypo": _uint(code), "twoTypos": _uint(code)}, code
    )
    out = _check_object(
        "typoTolerance",
        value,
        {
            "enabled": _bool(code),
            "minWordSizeForTypos": sizes,
            "disableOnWords": _strs(code),
            "disableOnAttributes": _strs(code),
            "disableOnNumbers": _bool(code),
        },
        code,
    )
    return out


def _check_faceting(value: Any) -> dict[str, Any]:
    code = _CODES["faceting"]

    def sort_by(path: str, v: Any) -> dict[str, str]:
        if not isinstance(v, dict):
            raise type_error(path, "an object", v, code)
        for name, order in v.items():
            if order not in ("alpha", "count"):
                raise SiftError(
                    f"Unknown value `{order}` at `.{path}.{name}`: expected one of `alpha`, "
                    "`count`",
                    code,
                )
        return dict(v)

    return _check_object(
        "faceting", value, {"maxValuesPerFacet": _uint(code), "sortFacetValuesBy": sort_by}, code
    )


def _check_filterable(value: Any) -> list[Any]:
    code = _CODES["filterableAttributes"]
    if not isinstance(value, list):
        raise type_error("filterableAttributes", "an array", value, code)
    for i, item in enumerate(value):
        # Meilisearch >= 1.14 also accepts {"attributePatterns": [...], "features": {...}}.
        if isinstance(item, dict):
            _str_list(
                f"filterableAttributes[{i}].attributePatterns", item.get("attributePatterns"), code
            )
        elif not isinstance(item, str):
            raise type_error(f"filterableAttributes[{i}]", "a string", item, code)
    return list(value)


def _check_enum(key: str, allowed: tuple[str, ...]) -> Any:
    def check(value: Any) -> str:
        if value not in allowed:
            opts = ", ".join(f"`{a}`" for a in allowed)
            raise SiftError(
                f"Unknown value `{value}` at `.{key}`: expected one of {opts}", _CODES[key]
            )
        return str(value)

    return check


def _check_distinct(value: Any) -> str:
    if not isinstance(value, str):
        raise type_error("distinctAttribute", "a string", value, _CODES["distinctAttribute"])
    return value


def _check_localized(value: Any) -> list[dict[str, Any]]:
    code = _CODES["localizedAttributes"]
    if not isinstance(value, list):
        raise type_error("localizedAttributes", "an array", value, code)
    for i, rule in enumerate(value):
        _check_object(
            f"localizedAttributes[{i}]",
            rule,
            {"attributePatterns": _strs(code), "locales": _strs(code)},
            code,
        )
    return list(value)


def _check_embedders(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise type_error("embedders", "an object", value, _CODES["embedders"])
    return dict(value)  # kept verbatim until vector search lands


def _check_foreign_keys(value: Any) -> list[dict[str, str]]:
    code = _CODES["foreignKeys"]
    if not isinstance(value, list):
        raise type_error("foreignKeys", "an array", value, code)
    out = []
    for i, item in enumerate(value):
        path = f"foreignKeys[{i}]"
        fields = {"foreignIndexUid": _str(code), "fieldName": _str(code)}
        checked = _check_object(path, item, fields, code)
        for name in fields:
            if checked.get(name) is None:
                raise SiftError(f"Missing field `{name}` inside `.{path}`", code)
        out.append(checked)
    return out


def _str(code: str) -> Any:
    def check(path: str, v: Any) -> str:
        if not isinstance(v, str):
            raise type_error(path, "a string", v, code)
        return v

    return check


def _check_chat(value: Any) -> dict[str, Any]:
    code = _CODES["chat"]

    def params(path: str, v: Any) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise type_error(path, "an object", v, code)
        return dict(v)

    return _check_object(
        "chat",
        value,
        {
            "description": _str(code),
            "documentTemplate": _str(code),
            "documentTemplateMaxBytes": _uint(code),
            "searchParameters": params,
        },
        code,
    )


_CHECKS: Final[dict[str, Any]] = {
    "displayedAttributes": lambda v: _str_list(
        "displayedAttributes", v, _CODES["displayedAttributes"]
    ),
    "searchableAttributes": lambda v: _str_list(
        "searchableAttributes", v, _CODES["searchableAttributes"]
    ),
    "filterableAttributes": _check_filterable,
    "sortableAttributes": lambda v: _str_list(
        "sortableAttributes", v, _CODES["sortableAttributes"]
    ),
    "rankingRules": _check_rules,
    "stopWords": lambda v: _str_list("stopWords", v, _CODES["stopWords"]),
    "nonSeparatorTokens": lambda v: _str_list(
        "nonSeparatorTokens", v, _CODES["nonSeparatorTokens"]
    ),
    "separatorTokens": lambda v: _str_list("separatorTokens", v, _CODES["separatorTokens"]),
    "dictionary": lambda v: _str_list("dictionary", v, _CODES["dictionary"]),
    "synonyms": _check_synonyms,
    "distinctAttribute": _check_distinct,
    "proximityPrecision": _check_enum("proximityPrecision", ("byWord", "byAttribute")),
    "typoTolerance": _check_typo,
    "faceting": _check_faceting,
    "pagination": lambda v: _check_object(
        "pagination", v, {"maxTotalHits": _uint(_CODES["pagination"])}, _CODES["pagination"]
    ),
    "embedders": _check_embedders,
    "searchCutoffMs": lambda v: _uint(_CODES["searchCutoffMs"])("searchCutoffMs", v),
    "localizedAttributes": _check_localized,
    "facetSearch": lambda v: _bool(_CODES["facetSearch"])("facetSearch", v),
    "prefixSearch": _check_enum("prefixSearch", ("indexingTime", "disabled")),
    "foreignKeys": _check_foreign_keys,
    "chat": _check_chat,
    "clickRanking": lambda v: _check_object(
        "clickRanking",
        v,
        {"enabled": _bool(_CODES["clickRanking"])},
        _CODES["clickRanking"],
    ),
}


def validate_settings(patch: Any) -> dict[str, Any]:
    """Check a settings patch; return it normalised (``None`` values kept as resets)."""
    if not isinstance(patch, dict):
        raise type_error("", "an object", patch, "bad_request")
    out: dict[str, Any] = {}
    for key, value in patch.items():
        if key not in _CHECKS:
            expected = ", ".join(f"`{k}`" for k in _CHECKS)
            raise SiftError(
                f"Unknown field `{shown(key)}`: expected one of {expected}", "bad_request"
            )
        out[key] = None if value is None else _CHECKS[key](value)
    typo = out.get("typoTolerance") or {}
    sizes = typo.get("minWordSizeForTypos") or {}
    one, two = sizes.get("oneTypo"), sizes.get("twoTypos")
    if one is not None and two is not None and one > two:
        raise SiftError(
            "`minWordSizeForTypos` setting is invalid. `oneTypo` and `twoTypos` fields should "
            "be between `0` and `255`, and `twoTypos` should be greater or equals to `oneTypo` "
            f"but found `oneTypo: {one}` and twoTypos: {two}`.",
            _CODES["typoTolerance"],
        )
    return out


def _merge(current: dict[str, Any], patch: dict[str, Any], default: dict[str, Any]) -> dict:
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged[key] = copy.deepcopy(default[key])
        elif (
            isinstance(value, dict)
            and isinstance(default.get(key), dict)
            and key not in ("synonyms", "embedders", "sortFacetValuesBy", "searchParameters")
        ):
            # An index stored before a setting existed has no value for it yet: merge
            # into the default so a partial patch keeps the other fields.
            base = current.get(key) or copy.deepcopy(default[key])
            merged[key] = _merge(base, value, default[key])
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def apply_patch(current: dict[str, Any], patch: dict[str, Any], mode: str = "sift") -> dict:
    """Meilisearch PATCH semantics: ``null`` resets to default, nested objects merge."""
    patch = validate_settings(patch)
    defaults = default_settings(mode)
    merged = {**defaults, **_merge(current, patch, defaults)}
    # sortFacetValuesBy is replaced as a whole, but Meilisearch always shows the "*" fallback.
    order = merged["faceting"].get("sortFacetValuesBy") or {}
    merged["faceting"]["sortFacetValuesBy"] = {"*": order.get("*", "alpha"), **order}
    sizes = merged["typoTolerance"]["minWordSizeForTypos"]
    if sizes["oneTypo"] > sizes["twoTypos"]:
        validate_settings({"typoTolerance": {"minWordSizeForTypos": sizes}})
    return merged
