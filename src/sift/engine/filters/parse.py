"""Meilisearch's filter language: string or array form in, a :mod:`tree` tree out.

Grammar, loosest binding first (``NOT`` > ``AND`` > ``OR``, as Meilisearch documents)::

    or        := and ("OR" and)*
    and       := not ("AND" not)*
    not       := "NOT" not | primary
    primary   := "(" or ")" | _geoRadius(...) | _geoBoundingBox(...) | condition
    condition := attr ("=" | "!=" | ">" | ">=" | "<" | "<=") value
               | attr value "TO" value
               | attr ["NOT"] "IN" "[" value ("," value)* [","] "]"
               | attr ["NOT"] "EXISTS" | attr "IS" ["NOT"] ("NULL" | "EMPTY")
               | attr ["NOT"] "CONTAINS" value | attr ["NOT"] "STARTS" "WITH" value

Keywords are case-insensitive; attributes and values are bare words or quoted
with ``'`` or ``"`` (a backslash escapes the quote or itself). Errors follow
Meilisearch's observable format: a sentence, a newline, then
``start:end full-filter`` where start/end are 1-based character columns of the
offending span (end exclusive).
"""

from __future__ import annotations

from typing import NoReturn

from sift.engine.filters.geo import GeoArgumentError, parse_geo_bounding_box, parse_geo_radius
from sift.engine.filters.tree import (
    And,
    Between,
    Compare,
    Contains,
    Equals,
    Exists,
    FilterNode,
    In,
    IsEmpty,
    IsNull,
    MatchAll,
    Not,
    Or,
    Span,
    StartsWith,
)
from sift.errors import SiftError

__all__ = ["parse_filter"]

SEARCH_FILTER_CODE = "invalid_search_filter"

# Nested parentheses/NOTs beyond this would exhaust Python's recursion limit;
# Meilisearch rejects deep filters too, with the message below.
MAX_DEPTH = 200

_OPERATIONS = (
    "`=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, "
    "`IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, "
    "`STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, or `_geoBoundingBox`"
)
_GEO_HELP = (
    "Use the `_geoRadius(latitude, longitude, distance)` or "
    "`_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules "
    "to filter on `_geo` coordinates."
)
_RESERVED = ("_geo", "_geoDistance", "_geoPoint")
# Characters that end a bare word: whitespace is handled separately.
_DELIMITERS = frozenset("()[],=!<>'\"")
_COMPARISONS = (">=", "<=", "!=", "=", ">", "<")


def parse_filter(expr: str | list, error_code: str = SEARCH_FILTER_CODE) -> FilterNode:
    """Parse a Meilisearch filter (string, or array: outer list AND, inner lists OR).

    ``error_code`` re-codes failures, e.g. ``invalid_document_filter`` for the
    documents routes. Empty filters (``""``, ``[]``) give :class:`MatchAll`.
    """
    if isinstance(expr, str):
        return _Parser(expr, error_code).parse()
    if not isinstance(expr, list):
        raise SiftError(
            f"Invalid syntax for the filter parameter: `expected String, Array, found: {expr!r}`.",
            error_code,
        )
    conjuncts: list[FilterNode] = []
    for item in expr:
        if isinstance(item, str):
            node = _Parser(item, error_code).parse()
        elif isinstance(item, list):
            alternatives = []
            for inner in item:
                if not isinstance(inner, str):
                    raise SiftError(
                        "Invalid syntax for the filter parameter: "
                        f"`expected String, found: {inner!r}`.",
                        error_code,
                    )
                alternatives.append(_Parser(inner, error_code).parse())
            node = _combine(Or, alternatives)
        else:
            raise SiftError(
                "Invalid syntax for the filter parameter: "
                f"`expected String, Array, found: {item!r}`.",
                error_code,
            )
        conjuncts.append(node)
    return _combine(And, conjuncts)


def _combine(kind: type[And] | type[Or], nodes: list[FilterNode]) -> FilterNode:
    # An empty string inside the array form places no constraint: it drops out
    # of an AND, and makes an OR group (one alternative is "anything") match all.
    if any(isinstance(node, MatchAll) for node in nodes):
        if kind is Or:
            return MatchAll()
        nodes = [node for node in nodes if not isinstance(node, MatchAll)]
    if not nodes:
        return MatchAll()
    if len(nodes) == 1:
        return nodes[0]
    return kind(tuple(nodes))


class _Parser:
    """Recursive descent over the characters, tracking positions for error spans."""

    def __init__(self, text: str, code: str) -> None:
        self.text = text
        self.code = code
        self.pos = 0
        self.depth = 0

    # -- entry point -----------------------------------------------------

    def parse(self) -> FilterNode:
        self._skip_ws()
        if self.pos == len(self.text):
            return MatchAll()
        node = self._or()
        self._skip_ws()
        if self.pos < len(self.text):
            rest = self.text[self.pos :].rstrip()
            self._fail(
                f"Found unexpected characters at the end of the filter: `{rest}`. "
                "You probably forgot an `OR` or an `AND` rule.",
                self.pos,
                self.pos + len(rest),
            )
        return node

    # -- errors and scanning helpers -------------------------------------

    def _fail(self, message: str, start: int, end: int) -> NoReturn:
        raise SiftError(f"{message}\n{Span(self.text, start, end).context()}", self.code)

    def _skip_ws(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos].isspace():
            pos += 1
        self.pos = pos

    def _at_keyword(self, word: str) -> bool:
        """Whether the case-insensitive keyword starts here and ends at a word boundary."""
        end = self.pos + len(word)
        if self.text[self.pos : end].upper() != word:
            return False
        return end == len(self.text) or self.text[end].isspace() or self.text[end] in _DELIMITERS

    def _eat_keyword(self, word: str) -> bool:
        self._skip_ws()
        if self._at_keyword(word):
            self.pos += len(word)
            return True
        return False

    # -- boolean structure ----------------------------------------------

    def _or(self) -> FilterNode:
        children = [self._and()]
        while self._eat_keyword("OR"):
            children.append(self._and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def _and(self) -> FilterNode:
        children = [self._not()]
        while self._eat_keyword("AND"):
            children.append(self._not())
        return children[0] if len(children) == 1 else And(tuple(children))

    def _not(self) -> FilterNode:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self._fail(
                "The filter exceeded the maximum depth limit. Try rewriting the filter "
                "so that it contains fewer nested conditions.",
                0,
                len(self.text),
            )
        try:
            if self._eat_keyword("NOT"):
                return Not(self._not())
            return self._primary()
        finally:
            self.depth -= 1

    def _primary(self) -> FilterNode:
        self._skip_ws()
        text, start = self.text, self.pos
        if text.startswith("(", start):
            self.pos += 1
            node = self._or()
            self._skip_ws()
            if not text.startswith(")", self.pos):
                self._fail(
                    f"Expression `{text[start:].rstrip()}` is missing the following "
                    "closing delimiter: `)`.",
                    start,
                    len(text.rstrip()),
                )
            self.pos += 1
            return node
        for name in ("_geoRadius", "_geoBoundingBox"):
            if text.startswith(name, start):
                after = start + len(name)
                rest = text[after:].lstrip()
                if rest.startswith("("):
                    self.pos = len(text) - len(rest)
                    body = self._call_body(start)
                    parse = parse_geo_radius if name == "_geoRadius" else parse_geo_bounding_box
                    try:
                        return parse(body, Span(text, start, self.pos))
                    except GeoArgumentError as error:
                        self._fail(str(error), start, self.pos)
        return self._condition()

    # -- conditions -----------------------------------------------------

    def _condition(self) -> FilterNode:
        start = self.pos
        attribute, attr_end = self._token(expect="operation")
        if attribute in _RESERVED and self.text[start] not in "'\"":
            self._fail(
                f"`{attribute}` is a reserved keyword and thus can't be used as a filter "
                f"expression. {_GEO_HELP}",
                start,
                attr_end,
            )
        at = Span(self.text, start, attr_end)
        self._skip_ws()
        text, pos = self.text, self.pos
        for op in _COMPARISONS:
            if text.startswith(op, pos):
                self.pos += len(op)
                value, _ = self._token(expect="value")
                if op == "=":
                    return Equals(attribute, value, at)
                if op == "!=":
                    return Not(Equals(attribute, value, at))
                return Compare(attribute, op, value, at)
        negated = self._eat_keyword("NOT")
        node = self._keyword_condition(attribute, at, negated, start)
        if node is not None:
            return Not(node) if negated else node
        if negated:
            self._expecting_operation(start)
        # `attr low TO high`: the only form where a value directly follows the attribute.
        if self.pos < len(text) and (text[self.pos] not in _DELIMITERS or text[self.pos] in "'\""):
            saved = self.pos
            low, _ = self._token(expect="value")
            if self._eat_keyword("TO"):
                high, _ = self._token(expect="value")
                return Between(attribute, low, high, at)
            self.pos = saved
        self._expecting_operation(start)

    def _keyword_condition(
        self, attribute: str, at: Span, negated: bool, start: int
    ) -> FilterNode | None:
        """Operators spelled as words; ``None`` when none is here."""
        if self._eat_keyword("IN"):
            return In(attribute, self._value_list(), at)
        if self._eat_keyword("EXISTS"):
            return Exists(attribute, at)
        if self._eat_keyword("CONTAINS"):
            return Contains(attribute, self._token(expect="value")[0], at)
        if self._eat_keyword("STARTS"):
            if not self._eat_keyword("WITH"):
                self._expecting_operation(start)
            return StartsWith(attribute, self._token(expect="value")[0], at)
        if not negated and self._eat_keyword("IS"):
            is_not = self._eat_keyword("NOT")
            if self._eat_keyword("NULL"):
                node: FilterNode = IsNull(attribute, at)
            elif self._eat_keyword("EMPTY"):
                node = IsEmpty(attribute, at)
            else:
                self._expecting_operation(start)
            return Not(node) if is_not else node
        return None

    def _expecting_operation(self, start: int) -> NoReturn:
        rest = self.text[start:].rstrip()
        self._fail(
            f"Was expecting an operation {_OPERATIONS} at `{rest}`.", start, start + len(rest)
        )

    def _value_list(self) -> tuple[str, ...]:
        self._skip_ws()
        text = self.text
        if not text.startswith("[", self.pos):
            found = text[self.pos :].rstrip()
            self._fail("Expected `[` after `IN` keyword.", self.pos, self.pos + len(found))
        open_pos = self.pos
        self.pos += 1
        values: list[str] = []
        while True:
            self._skip_ws()
            if text.startswith("]", self.pos):
                self.pos += 1
                return tuple(values)
            if self.pos >= len(text):
                self._fail(
                    "Expected matching `]` after the list of field names given to `IN[`",
                    open_pos,
                    len(text),
                )
            if text[self.pos] in _DELIMITERS and text[self.pos] not in "'\"":
                self._in_garbage()
            values.append(self._token(expect="value")[0])
            self._skip_ws()
            if text.startswith(",", self.pos):
                self.pos += 1
            elif not text.startswith("]", self.pos) and self.pos < len(text):
                self._in_garbage()

    def _in_garbage(self) -> NoReturn:
        rest = self.text[self.pos :].rstrip()
        self._fail(
            f"Expected only comma-separated field names inside `IN[..]` but instead found "
            f"`{rest}`.",
            self.pos,
            self.pos + len(rest),
        )

    def _token(self, expect: str) -> tuple[str, int]:
        """A bare or quoted word: returns (text, end position)."""
        self._skip_ws()
        text, start = self.text, self.pos
        if start >= len(text) or (text[start] in _DELIMITERS and text[start] not in "'\""):
            if expect == "operation":
                self._expecting_operation(start)
            got = "nothing" if start >= len(text) else f"`{text[start]}`"
            self._fail(
                f"Was expecting a value but instead got {got}.",
                start,
                min(start + 1, len(text)),
            )
        quote = text[start]
        if quote in "'\"":
            return self._quoted(quote, start)
        end = start
        while end < len(text) and not text[end].isspace() and text[end] not in _DELIMITERS:
            end += 1
        self.pos = end
        return text[start:end], end

    def _quoted(self, quote: str, start: int) -> tuple[str, int]:
        text = self.text
        out: list[str] = []
        pos = start + 1
        while pos < len(text):
            char = text[pos]
            if char == "\\" and pos + 1 < len(text):
                nxt = text[pos + 1]
                # Only the quote and the backslash are escapable; other sequences
                # stay literal so Windows paths and regex-looking values survive.
                out.append(nxt if nxt in (quote, "\\") else char + nxt)
                pos += 2
                continue
            if char == quote:
                self.pos = pos + 1
                return "".join(out), pos + 1
            out.append(char)
            pos += 1
        rest = text[start:].rstrip()
        self._fail(
            f"Expression `{rest}` is missing the following closing delimiter: `{quote}`.",
            start,
            start + len(rest),
        )

    # -- geo ------------------------------------------------------------

    def _call_body(self, start: int) -> str:
        """The text between the parenthesis at self.pos and its closing one."""
        text = self.text
        close = text.find(")", self.pos)
        if close < 0:
            self._fail(
                f"Expression `{text[start:].rstrip()}` is missing the following closing "
                "delimiter: `)`.",
                start,
                len(text.rstrip()),
            )
        inside = text[self.pos + 1 : close]
        self.pos = close + 1
        return inside
