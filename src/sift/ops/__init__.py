"""What an operator does to a Sift instance besides searching it, one module each:

- ``backups``: dumps (portable exports) and snapshots, and ``sift restore``;
- ``importer``: ``sift import`` of JSON, NDJSON or CSV files;
- ``webhooks`` and ``webhook_delivery``: the ``/webhooks`` definitions and their sender;
- ``redaction``: how secrets are shown back by the API.
"""
