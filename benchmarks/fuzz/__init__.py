"""Hostile-input harnesses: the request fuzzer (`fuzz`) and deep-body peak memory
(`deep-bodies`), both against a real `sift serve` on 127.0.0.1."""
