"""Durable task queue: payload normalisation, the worker, one handler per task kind."""
