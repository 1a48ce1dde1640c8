"""Which API area a test of the SDK exercises, from its file and name.

The SDK groups tests by client object, not by endpoint (``test_client.py`` covers keys,
tasks, health, stats, ...), so the file alone is too coarse; the test name decides.
"""

from __future__ import annotations

import re

# Files whose tests never talk to the server (models, helpers, mocked transports).
OFFLINE_FILES = {
    "test_decorators",
    "test_errors",
    "test_http_requests",
    "test_json_handler",
    "test_settings_models",
    "test_utils",
    "test_version",
}

SETTINGS_WORDS = (
    "settings",
    "ranking_rules",
    "distinct_attribute",
    "searchable_attributes",
    "displayed_attributes",
    "pagination",
    "separator_tokens",
    "search_cutoff",
    "dictionary",
    "stop_words",
    "synonyms",
    "filterable_attributes",
    "sortable_attributes",
    "typo_tolerance",
    "faceting",
    "proximity_precision",
    "embedders",
    "localized_attributes",
    "facet_search_opt_out",
    "prefix_search_opt_out",
    "foreign_keys",
    "search_parameters",
    "chat",
)

# Checked in order against test names from test_client.py / test_async_client.py.
CLIENT_RULES: tuple[tuple[str, str], ...] = (
    ("http_version", "client"),  # HTTP/1.1 vs HTTP/2 of the transport, not GET /version
    ("tenant_token", "keys"),
    ("master_key", "keys"),
    ("key", "keys"),
    ("task", "tasks"),
    ("statuses", "tasks"),  # test_cancel_statuses, test_delete_statuses
    ("wait_for", "tasks"),
    ("batch", "batches"),
    ("health", "health"),
    ("version", "version"),
    ("stats", "stats"),
    ("webhook", "webhooks"),
    ("network", "network"),
    ("experimental", "experimental"),
    ("dump", "dumps"),
    ("snapshot", "dumps"),
    ("multi_search", "search"),
    ("search", "search"),
    ("swap", "indexes"),
    ("index", "indexes"),
)


def area_of(module: str, name: str) -> str:
    """`module` is the test file's stem (``test_client``), `name` the test function's name."""
    base = re.sub(r"\[.*\]$", "", name)
    stem = module.replace("test_async_", "test_")
    if stem in OFFLINE_FILES:
        return "offline"
    if stem == "test_search":
        return "search"
    if stem == "test_documents":
        return "documents"
    if stem == "test_index_plugins":
        return "plugins"
    if stem == "test_index":
        if any(word in base for word in SETTINGS_WORDS):
            return "settings"
        return "stats" if "stats" in base else "indexes"
    if stem == "test_client":
        for word, area in CLIENT_RULES:
            if word in base:
                return area
        return "client"
    return stem.removeprefix("test_")
