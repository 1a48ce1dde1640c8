"""Bounds on what a request may carry, applied before any parser or store sees it:
JSON nesting depth, integers (ASCII digits, in the range of Meilisearch's type for each),
query strings that are not UTF-8, and client values quoted back in error messages."""

from sift.inputs.depth import MAX_DEPTH, DepthScanner, TooDeep, check_depth
from sift.inputs.echo import MAX_SHOWN, kind_of, shown
from sift.inputs.integers import (
    SQL_BIGINT,
    U8,
    U32,
    U64,
    USIZE,
    parse_uint,
    uint_field,
    uint_param,
)
from sift.inputs.query_string import check_utf8
from sift.inputs.uids import INDEX_UID, INDEX_UID_RULE

__all__ = [
    "INDEX_UID",
    "INDEX_UID_RULE",
    "MAX_DEPTH",
    "MAX_SHOWN",
    "SQL_BIGINT",
    "U8",
    "U32",
    "U64",
    "USIZE",
    "DepthScanner",
    "TooDeep",
    "check_depth",
    "check_utf8",
    "kind_of",
    "parse_uint",
    "shown",
    "uint_field",
    "uint_param",
]
