"""Search rules (merchandising): Meilisearch's ``/dynamic-search-rules``.

A rule has conditions (the query is empty, or holds given words; a time window) and
actions on the results of the indexes it names: pin a document at a position, scale
documents' relevancy (boost, deboost, or hide with weight 0). ``model`` validates the
wire format, ``store`` reads rules and applies the two task kinds that change them,
``matching`` picks the rules of one search, ``book`` caches them per node; the engine
applies them (sift.engine.curation).
"""

from sift.rules.book import FEATURE, RuleBook
from sift.rules.matching import RuleSet
from sift.rules.model import check_uid, parse_patch
from sift.rules.store import CLEAR, TASK_TYPES, UPDATE

__all__ = [
    "CLEAR",
    "FEATURE",
    "TASK_TYPES",
    "UPDATE",
    "RuleBook",
    "RuleSet",
    "check_uid",
    "parse_patch",
]
