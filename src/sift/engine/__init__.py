"""Search engine core: analysis, inverted index, ranking. Imports no HTTP or SQL code."""
