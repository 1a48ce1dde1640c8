"""Sift: a self-hosted search back end speaking the Meilisearch v1 API."""

__version__ = "0.1.0"
