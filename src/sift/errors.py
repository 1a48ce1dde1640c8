"""Every failure Sift reports, in one table.

Each error code maps once to Meilisearch's error ``type`` and HTTP status, so
the HTTP layer renders any :class:`SiftError` as ``{message, code, type, link}``
without knowing where it came from. Layers raise ``SiftError(code, message)``
(or a named subclass); nothing else decides statuses.
"""

from __future__ import annotations

import math
from typing import Final

ERROR_LINK_BASE: Final = "https://docs.meilisearch.com/errors#"
MAX_MESSAGE: Final = 2_000  # characters of an error message; longer ones are cut

# code -> (type, HTTP status)
ERROR_TABLE: Final[dict[str, tuple[str, int]]] = {
    # generic request problems
    "bad_request": ("invalid_request", 400),
    "malformed_payload": ("invalid_request", 400),
    "missing_payload": ("invalid_request", 400),
    "invalid_content_type": ("invalid_request", 415),
    "missing_content_type": ("invalid_request", 415),
    "payload_too_large": ("invalid_request", 413),
    "not_found": ("invalid_request", 404),
    "too_many_requests": ("system", 429),  # a rate limit (docs/api.md#rate-limits)
    "too_many_authentication_failures": ("auth", 429),
    "feature_not_enabled": ("invalid_request", 400),
    # indexes
    "index_not_found": ("invalid_request", 404),
    "index_already_exists": ("invalid_request", 409),
    "index_primary_key_already_exists": ("invalid_request", 400),
    "index_primary_key_multiple_candidates_found": ("invalid_request", 400),
    "index_primary_key_no_candidate_found": ("invalid_request", 400),
    "invalid_index_uid": ("invalid_request", 400),
    "invalid_index_primary_key": ("invalid_request", 400),
    "invalid_index_offset": ("invalid_request", 400),
    "invalid_index_limit": ("invalid_request", 400),
    "missing_index_uid": ("invalid_request", 400),
    "invalid_swap_indexes": ("invalid_request", 400),
    "invalid_swap_rename": ("invalid_request", 400),
    "invalid_swap_duplicate_index_found": ("invalid_request", 400),
    "immutable_index_uid": ("invalid_request", 400),
    "immutable_index_created_at": ("invalid_request", 400),
    "immutable_index_updated_at": ("invalid_request", 400),
    # documents
    "document_not_found": ("invalid_request", 404),
    "invalid_document_id": ("invalid_request", 400),
    "missing_document_id": ("invalid_request", 400),
    "invalid_document_fields": ("invalid_request", 400),
    "invalid_document_offset": ("invalid_request", 400),
    "invalid_document_limit": ("invalid_request", 400),
    "invalid_document_filter": ("invalid_request", 400),
    "invalid_document_sort": ("invalid_request", 400),
    "missing_document_filter": ("invalid_request", 400),
    "invalid_document_ids": ("invalid_request", 400),
    "invalid_document_csv_delimiter": ("invalid_request", 400),
    "invalid_document_retrieve_vectors": ("invalid_request", 400),
    "invalid_document_geo_field": ("invalid_request", 400),
    "invalid_vectors_type": ("invalid_request", 400),
    "max_fields_limit_exceeded": ("invalid_request", 400),
    # search
    # admin dashboard
    "invalid_csrf_token": ("auth", 403),
    # analytics
    "invalid_analytics_range": ("invalid_request", 400),
    "invalid_analytics_limit": ("invalid_request", 400),
    # click and conversion events (POST /events)
    "invalid_event_type": ("invalid_request", 400),
    "invalid_event_name": ("invalid_request", 400),
    "invalid_event_index_uid": ("invalid_request", 400),
    "invalid_event_user_id": ("invalid_request", 400),
    "invalid_event_query_uid": ("invalid_request", 400),
    "invalid_event_object_id": ("invalid_request", 400),
    "invalid_event_object_name": ("invalid_request", 400),
    "invalid_event_position": ("invalid_request", 400),
    "invalid_query_suggestions": ("invalid_request", 400),
    "query_suggestions_not_found": ("invalid_request", 404),
    "invalid_search_q": ("invalid_request", 400),
    "invalid_search_offset": ("invalid_request", 400),
    "invalid_search_limit": ("invalid_request", 400),
    "invalid_search_page": ("invalid_request", 400),
    "invalid_search_hits_per_page": ("invalid_request", 400),
    "invalid_search_filter": ("invalid_request", 400),
    "invalid_search_facets": ("invalid_request", 400),
    "invalid_search_sort": ("invalid_request", 400),
    "invalid_search_distinct": ("invalid_request", 400),
    "invalid_search_attributes_to_retrieve": ("invalid_request", 400),
    "invalid_search_attributes_to_highlight": ("invalid_request", 400),
    "invalid_search_attributes_to_crop": ("invalid_request", 400),
    "invalid_search_attributes_to_search_on": ("invalid_request", 400),
    "invalid_search_crop_length": ("invalid_request", 400),
    "invalid_search_crop_marker": ("invalid_request", 400),
    "invalid_search_highlight_pre_tag": ("invalid_request", 400),
    "invalid_search_highlight_post_tag": ("invalid_request", 400),
    "invalid_search_show_matches_position": ("invalid_request", 400),
    "invalid_search_show_ranking_score": ("invalid_request", 400),
    "invalid_search_show_ranking_score_details": ("invalid_request", 400),
    "invalid_search_matching_strategy": ("invalid_request", 400),
    "invalid_search_ranking_score_threshold": ("invalid_request", 400),
    "invalid_search_hybrid_query": ("invalid_request", 400),
    "invalid_search_vector": ("invalid_request", 400),
    "invalid_search_semantic_ratio": ("invalid_request", 400),
    "invalid_search_embedder": ("invalid_request", 400),
    "invalid_search_retrieve_vectors": ("invalid_request", 400),
    "invalid_search_locales": ("invalid_request", 400),
    "invalid_facet_search_facet_name": ("invalid_request", 400),
    "invalid_facet_search_facet_query": ("invalid_request", 400),
    "missing_facet_search_facet_name": ("invalid_request", 400),
    "invalid_multi_search_queries": ("invalid_request", 400),
    "invalid_multi_search_federation": ("invalid_request", 400),
    "invalid_multi_search_federation_options": ("invalid_request", 400),
    "invalid_multi_search_weight": ("invalid_request", 400),
    "invalid_multi_search_query_pagination": ("invalid_request", 400),
    "invalid_multi_search_query_facets": ("invalid_request", 400),
    "invalid_multi_search_facets_by_index": ("invalid_request", 400),
    "invalid_multi_search_merge_facets": ("invalid_request", 400),
    "invalid_multi_search_facet_order": ("invalid_request", 400),
    "invalid_search_show_performance_details": ("invalid_request", 400),
    "invalid_facet_search_exhaustive_facet_count": ("invalid_request", 400),
    "missing_index_uid_in_query": ("invalid_request", 400),
    "invalid_similar_id": ("invalid_request", 400),
    # semantic search (src/sift/semantic)
    "not_found_similar_id": ("invalid_request", 404),
    "invalid_similar_embedder": ("invalid_request", 400),
    "invalid_similar_offset": ("invalid_request", 400),
    "invalid_similar_limit": ("invalid_request", 400),
    "invalid_similar_filter": ("invalid_request", 400),
    "invalid_similar_attributes_to_retrieve": ("invalid_request", 400),
    "invalid_similar_show_ranking_score": ("invalid_request", 400),
    "invalid_similar_show_ranking_score_details": ("invalid_request", 400),
    "invalid_similar_show_performance_details": ("invalid_request", 400),
    "invalid_similar_ranking_score_threshold": ("invalid_request", 400),
    "invalid_similar_retrieve_vectors": ("invalid_request", 400),
    "vector_embedding_error": ("invalid_request", 400),
    "invalid_sort_geo": ("invalid_request", 400),
    # settings
    "invalid_settings_displayed_attributes": ("invalid_request", 400),
    "invalid_settings_searchable_attributes": ("invalid_request", 400),
    "invalid_settings_filterable_attributes": ("invalid_request", 400),
    "invalid_settings_sortable_attributes": ("invalid_request", 400),
    "invalid_settings_ranking_rules": ("invalid_request", 400),
    "invalid_settings_stop_words": ("invalid_request", 400),
    "invalid_settings_synonyms": ("invalid_request", 400),
    "invalid_settings_distinct_attribute": ("invalid_request", 400),
    "invalid_settings_typo_tolerance": ("invalid_request", 400),
    "invalid_settings_faceting": ("invalid_request", 400),
    "invalid_settings_pagination": ("invalid_request", 400),
    "invalid_settings_proximity_precision": ("invalid_request", 400),
    "invalid_settings_separator_tokens": ("invalid_request", 400),
    "invalid_settings_non_separator_tokens": ("invalid_request", 400),
    "invalid_settings_dictionary": ("invalid_request", 400),
    "invalid_settings_search_cutoff_ms": ("invalid_request", 400),
    "invalid_settings_localized_attributes": ("invalid_request", 400),
    "invalid_settings_facet_search": ("invalid_request", 400),
    "invalid_settings_prefix_search": ("invalid_request", 400),
    "invalid_settings_embedders": ("invalid_request", 400),
    "invalid_settings_foreign_keys": ("invalid_request", 400),
    "invalid_settings_chat": ("invalid_request", 400),
    "invalid_settings_click_ranking": ("invalid_request", 400),
    # tasks
    "task_not_found": ("invalid_request", 404),
    "invalid_task_uids": ("invalid_request", 400),
    "invalid_task_statuses": ("invalid_request", 400),
    "invalid_task_types": ("invalid_request", 400),
    "invalid_task_index_uids": ("invalid_request", 400),
    "invalid_task_canceled_by": ("invalid_request", 400),
    "invalid_task_limit": ("invalid_request", 400),
    "invalid_task_from": ("invalid_request", 400),
    "invalid_task_reverse": ("invalid_request", 400),
    "invalid_task_before_enqueued_at": ("invalid_request", 400),
    "invalid_task_after_enqueued_at": ("invalid_request", 400),
    "invalid_task_before_started_at": ("invalid_request", 400),
    "invalid_task_after_started_at": ("invalid_request", 400),
    "invalid_task_before_finished_at": ("invalid_request", 400),
    "invalid_task_after_finished_at": ("invalid_request", 400),
    "missing_task_filters": ("invalid_request", 400),
    "task_file_not_found": ("invalid_request", 404),
    # batches
    "batch_not_found": ("invalid_request", 404),
    "invalid_batch_uid": ("invalid_request", 400),
    # keys and auth
    "missing_authorization_header": ("auth", 401),
    "invalid_api_key": ("auth", 403),
    "missing_master_key": ("auth", 401),
    "api_key_not_found": ("invalid_request", 404),
    "api_key_already_exists": ("invalid_request", 409),
    "invalid_api_key_actions": ("invalid_request", 400),
    "invalid_api_key_indexes": ("invalid_request", 400),
    "invalid_api_key_expires_at": ("invalid_request", 400),
    "invalid_api_key_description": ("invalid_request", 400),
    "invalid_api_key_name": ("invalid_request", 400),
    "invalid_api_key_uid": ("invalid_request", 400),
    "invalid_api_key_offset": ("invalid_request", 400),
    "invalid_api_key_limit": ("invalid_request", 400),
    "missing_api_key_actions": ("invalid_request", 400),
    "missing_api_key_indexes": ("invalid_request", 400),
    "missing_api_key_expires_at": ("invalid_request", 400),
    "immutable_api_key_uid": ("invalid_request", 400),
    "immutable_api_key_key": ("invalid_request", 400),
    "immutable_api_key_actions": ("invalid_request", 400),
    "immutable_api_key_indexes": ("invalid_request", 400),
    "immutable_api_key_expires_at": ("invalid_request", 400),
    "immutable_api_key_created_at": ("invalid_request", 400),
    "immutable_api_key_updated_at": ("invalid_request", 400),
    "invalid_tenant_token": ("auth", 403),
    # search rules (/dynamic-search-rules, src/sift/rules)
    "dynamic_search_rule_not_found": ("invalid_request", 404),
    "invalid_dynamic_search_rule_uid": ("invalid_request", 400),
    "invalid_dynamic_search_rule_description": ("invalid_request", 400),
    "invalid_dynamic_search_rule_precedence": ("invalid_request", 400),
    "invalid_dynamic_search_rule_active": ("invalid_request", 400),
    "invalid_dynamic_search_rule_conditions": ("invalid_request", 400),
    "invalid_dynamic_search_rule_actions": ("invalid_request", 400),
    # webhooks
    "webhook_not_found": ("invalid_request", 404),
    "invalid_webhook_url": ("invalid_request", 400),
    "invalid_webhook_headers": ("invalid_request", 400),
    "invalid_webhook_uuid": ("invalid_request", 400),
    "immutable_webhook": ("invalid_request", 400),
    "immutable_webhook_uuid": ("invalid_request", 400),
    "immutable_webhook_is_editable": ("invalid_request", 400),
    "too_many_webhooks": ("invalid_request", 400),
    # POST /render-template (sift.semantic.render)
    "invalid_render_template": ("invalid_request", 400),
    "invalid_render_template_inline": ("invalid_request", 400),
    "invalid_render_input": ("invalid_request", 400),
    "invalid_render_input_document_id": ("invalid_request", 400),
    "invalid_render_input_inline": ("invalid_request", 400),
    "render_document_not_found": ("invalid_request", 404),
    # /network and searches across it (src/sift/cluster)
    "invalid_network_self": ("invalid_request", 400),
    "invalid_network_leader": ("invalid_request", 400),
    "invalid_network_remotes": ("invalid_request", 400),
    "invalid_network_url": ("invalid_request", 400),
    "missing_network_url": ("invalid_request", 400),
    "invalid_network_search_api_key": ("invalid_request", 400),
    "invalid_network_write_api_key": ("invalid_request", 400),
    "invalid_network_shards": ("invalid_request", 400),
    "invalid_network_version": ("invalid_request", 400),
    "invalid_network_control_origin": ("invalid_request", 400),
    "invalid_network_control_message": ("invalid_request", 400),
    "network_version_mismatch": ("invalid_request", 409),
    "not_a_leader": ("invalid_request", 400),
    "invalid_forwarded_write": ("auth", 403),
    "invalid_search_use_network": ("invalid_request", 400),
    "invalid_document_use_network": ("invalid_request", 400),
    "invalid_multi_search_remote": ("invalid_request", 400),
    "remote_bad_response": ("system", 502),
    "remote_bad_request": ("invalid_request", 400),
    "remote_could_not_send_request": ("system", 502),
    "remote_invalid_api_key": ("auth", 403),
    "remote_remote_error": ("system", 502),
    "remote_timeout": ("system", 504),
    # system
    # sync sources
    "source_not_found": ("invalid_request", 404),
    "internal": ("internal", 500),
    "database_error": ("internal", 500),
    "index_creation_failed": ("internal", 500),
    "no_space_left_on_device": ("system", 500),
    "task_canceled": ("internal", 500),
    "dump_process_failed": ("internal", 500),
    "snapshot_process_failed": ("internal", 500),
}


class SiftError(Exception):
    """A failure with a Meilisearch error code; the HTTP layer renders it."""

    code: str = "internal"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if self.code not in ERROR_TABLE:
            raise KeyError(f"unknown error code {self.code!r}")
        self.message = message

    @property
    def type(self) -> str:
        return ERROR_TABLE[self.code][0]

    @property
    def status(self) -> int:
        return ERROR_TABLE[self.code][1]

    @property
    def link(self) -> str:
        return ERROR_LINK_BASE + self.code

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the response carries besides the body."""
        return {}

    def to_dict(self) -> dict[str, str]:
        message = self.message
        if len(message) > MAX_MESSAGE:  # a client value quoted whole (sift.inputs.shown cuts
            # the usual ones; this bounds every other message the same way)
            message = f"{message[:MAX_MESSAGE]}… ({len(message):,} characters)"
        return {"message": message, "code": self.code, "type": self.type, "link": self.link}


class NotALeader(SiftError):
    """A write sent to a node of a network with a ``leader`` other than itself."""

    code = "not_a_leader"

    def __init__(self, self_name: str, leader: str) -> None:
        super().__init__(
            f"This node (`{self_name}`) is not the network's leader: send writes to the "
            f"leader, `{leader}`.",
        )


class UntrustedOrigin(SiftError):
    """A write naming a leader's task as its origin, sent without the key the leader
    writes to this node with (http/auth.py :func:`forwarded_origin`)."""

    code = "invalid_forwarded_write"

    def __init__(self, what: str = "A write forwarded by the network's leader "
                                   "(`X-Sift-Origin-*` headers)") -> None:  # fmt: skip
        super().__init__(
            f"{what} must be sent with the master key or the `writeApiKey` this node's "
            "/network names for it.",
        )


class IndexNotFound(SiftError):
    code = "index_not_found"

    def __init__(self, uid: str) -> None:
        super().__init__(f"Index `{uid}` not found.")


class DocumentNotFound(SiftError):
    code = "document_not_found"

    def __init__(self, doc_id: str) -> None:
        super().__init__(f"Document `{doc_id}` not found.")


class TaskNotFound(SiftError):
    code = "task_not_found"

    def __init__(self, uid: int) -> None:
        super().__init__(f"Task `{uid}` not found.")


class InvalidFilter(SiftError):
    """A filter expression that does not parse or names a non-filterable attribute.

    ``code`` is ``invalid_search_filter`` for searches and
    ``invalid_document_filter`` for document listing and deletion.
    """

    code = "invalid_search_filter"


class RateLimited(SiftError):
    """A token bucket ran dry: `too_many_requests` or `too_many_authentication_failures`."""

    code = "too_many_requests"

    def __init__(self, message: str, retry_after: float, code: str | None = None) -> None:
        self.retry_after = max(1, math.ceil(retry_after))  # whole seconds, as HTTP says
        super().__init__(f"{message} Try again in {self.retry_after} s.", code)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
