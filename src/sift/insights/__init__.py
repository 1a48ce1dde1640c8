"""What visitors do with search: the search log, click and conversion events, query
suggestions, and the reports built from them."""

from sift.insights.clickmodel import ClickModels, ClickParams, build_model
from sift.insights.events import new_query_uid, parse_event
from sift.insights.searches import Analytics, Bucket, iso, pick_interval
from sift.insights.suggestions import (
    SuggestionRule,
    SuggestionsRefresher,
    load_rules,
    parse_rule,
    save_rule,
)

__all__ = [
    "Analytics",
    "Bucket",
    "ClickModels",
    "ClickParams",
    "SuggestionRule",
    "SuggestionsRefresher",
    "build_model",
    "iso",
    "load_rules",
    "new_query_uid",
    "parse_event",
    "parse_rule",
    "pick_interval",
    "save_rule",
]
