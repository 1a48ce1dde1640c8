"""What an operator does to a Sift instance besides searching it, one module each:

- ``keys``: API keys (stored hashed), their actions and index patterns;
- ``experimental``: the experimental-feature switches, stored in the database;
- ``backups``: dumps (portable exports) and snapshots, and ``sift restore``;
- ``importer``: ``sift import`` of JSON, NDJSON or CSV files;
- ``webhooks`` and ``webhook_delivery``: the ``/webhooks`` definitions and their sender;
- ``redaction``: how secrets are shown back by the API.
"""
