"""Hybrid (lexical + semantic) relevance and latency benchmark; see docs/semantic.md."""
