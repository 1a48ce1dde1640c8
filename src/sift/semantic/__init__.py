"""Semantic and hybrid search: embedders, the embedding cache, vector indexes, fusion.

Heavy dependencies (torch, transformers, onnxruntime) are imported on first use
only, so Sift's lexical search installs and runs without the `semantic` extra.
"""
