"""Hit formatting: retrieved attributes, ``_formatted`` highlights and crops,
``_matchesPosition``. Runs only on the page of hits being returned.

Offsets come from the tokenizer and are character offsets into the original
string, so tags never split a multi-byte character (accents, CJK, emoji).
``_matchesPosition`` reports UTF-8 byte offsets and lengths, as Meilisearch
documents ("ü" is two bytes, one character).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sift.engine.analysis import Analyzer


@dataclass
class Highlighter:
    analyzer: Analyzer
    words: set[str] = field(default_factory=set)  # whole words to mark
    prefixes: list[str] = field(default_factory=list)  # mark only the prefix part

    def spans(self, text: str) -> list[tuple[int, int, int]]:
        """(start, end, token index) character spans of matched tokens."""
        out = []
        for i, tok in enumerate(self.analyzer.tokens(text)):
            if tok.norm in self.words:
                out.append((tok.start, tok.end, i))
                continue
            for prefix in self.prefixes:
                if tok.norm.startswith(prefix):
                    length = tok.end - tok.start
                    # accent folding keeps one char per char for precomposed Latin;
                    # otherwise mark the whole token rather than guess a cut.
                    cut = len(prefix) if length == len(tok.norm) else length
                    out.append((tok.start, tok.start + cut, i))
                    break
        return out


def select_attributes(doc: dict[str, Any], wanted: list[str] | None,
                      displayed: list[str]) -> dict[str, Any]:
    """The document restricted to attributesToRetrieve and displayedAttributes."""
    return projection(wanted, displayed)(doc)


def projection(wanted: list[str] | None, displayed: list[str]
               ) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``select_attributes`` for many documents: what the lists ask is read once, and
    top-level names alone (``attributesToRetrieve: ["id"]``) pick keys from a set."""
    rules = [rule for rule in (displayed, wanted) if rule is not None and "*" not in rule]
    if not rules:
        return dict
    if not any("." in name for rule in rules for name in rule):
        keep = set(rules[0]).intersection(*rules[1:])
        return lambda doc: {k: v for k, v in doc.items() if k in keep}

    def project(doc: dict[str, Any]) -> dict[str, Any]:
        out = doc
        for rule in rules:
            out = _project(out, rule)
        return dict(out)

    return project


@lru_cache(maxsize=256)
def cached_projection(wanted: tuple[str, ...] | None, displayed: tuple[str, ...]
                      ) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """:func:`projection` of these lists, kept for the lists last asked for: a
    typeahead asks the same ones on every keystroke, and reading them again was ~2 µs
    of each search."""
    return projection(None if wanted is None else list(wanted), list(displayed))


def _project(doc: dict[str, Any], names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key in names:
            out[key] = value
            continue
        nested = [n[len(key) + 1:] for n in names if n.startswith(key + ".")]
        if nested and isinstance(value, dict):
            sub = _project(value, nested)
            if sub:
                out[key] = sub
        elif nested and isinstance(value, list):
            items = [_project(v, nested) for v in value if isinstance(v, dict)]
            if any(items):
                out[key] = [i for i in items if i]
    return out


def _matches(name: str, rules: dict[str, Any]) -> Any:
    if name in rules:
        return rules[name]
    for rule, value in rules.items():
        if rule == "*" or name.startswith(rule + ".") or (
            rule.endswith(".*") and name.startswith(rule[:-1])
        ):
            return value
    return None


@dataclass
class FormatOptions:
    highlight: dict[str, bool]  # attribute -> True
    crop: dict[str, int]  # attribute -> crop length in words
    pre: str = "<em>"
    post: str = "</em>"
    marker: str = "…"


def format_value(value: Any, name: str, hl: Highlighter, opts: FormatOptions) -> Any:
    if isinstance(value, dict):
        return {k: format_value(v, f"{name}.{k}", hl, opts) for k, v in value.items()}
    if isinstance(value, list):
        return [format_value(v, name, hl, opts) for v in value]
    do_hl = _matches(name, opts.highlight) is not None
    crop = _matches(name, opts.crop)
    if value is None or isinstance(value, bool):
        return value
    if not (do_hl or crop is not None):
        # Meilisearch shows every number of `_formatted` as a string, formatted or not.
        return str(value) if isinstance(value, int | float) else value
    text = str(value)
    return render(text, hl, opts if do_hl else None, crop, opts.marker)


def render(text: str, hl: Highlighter, tags: FormatOptions | None, crop: int | None,
           marker: str) -> str:
    spans = hl.spans(text)
    lo, hi = 0, len(text)
    prefix = suffix = ""
    if crop is not None:
        tokens = hl.analyzer.tokens(text)
        if len(tokens) > crop:
            start = _crop_start(len(tokens), [s[2] for s in spans], crop,
                                [tokens[s[2]].norm for s in spans])
            end = start + crop
            lo = tokens[start].start if crop else 0
            hi = tokens[end - 1].end if crop else 0
            prefix = marker if start > 0 else ""
            suffix = marker if end < len(tokens) else ""
    pieces = [prefix]
    cursor = lo
    if tags is not None:
        for s, e, _ in spans:
            if s < lo or e > hi or s < cursor:
                continue
            pieces += [text[cursor:s], tags.pre, text[s:e], tags.post]
            cursor = e
    pieces += [text[cursor:hi], suffix]
    return "".join(pieces)


def _crop_start(n_tokens: int, hits: list[int], length: int, norms: list[str]) -> int:
    """Start token of the window with the most distinct matched words, matches centred."""
    if not hits or length == 0:
        return 0
    best, best_count = hits[0], -1
    for h in hits:
        count = len({norms[j] for j, x in enumerate(hits) if h <= x < h + length})
        if count > best_count:
            best, best_count = h, count
    inside = [x for x in hits if best <= x < best + length]
    span = inside[-1] - inside[0] + 1
    # An odd number of spare words puts the extra one before the matches (as Meilisearch).
    start = inside[0] - (length - span + 1) // 2
    return max(0, min(start, n_tokens - length))


def matches_position(doc: dict[str, Any], hl: Highlighter, searchable: Any) -> dict[str, list]:
    """UTF-8 byte ``start``/``length`` of each match, per attribute; a match inside an
    array also gives ``indices``, its position in each enclosing array."""
    out: dict[str, list[dict[str, Any]]] = {}

    def walk(value: Any, name: str, indices: tuple[int, ...] = ()) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{name}.{k}" if name else k, indices)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, name, (*indices, i))
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            if not searchable(name):
                return
            text = str(value)
            for s, e, _ in hl.spans(text):
                match: dict[str, Any] = {
                    "start": len(text[:s].encode()), "length": len(text[s:e].encode())}
                if indices:
                    match["indices"] = list(indices)
                out.setdefault(name, []).append(match)

    walk(doc, "")
    return out
