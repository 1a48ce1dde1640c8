"""Which rules match one search, turned into the engine's :class:`Curation`.

Rules are compiled once per change of the rule set. Per index, the rules whose actions
can touch it are kept in precedence order (a smaller ``precedence`` first, no precedence
last, then by uid), with a map from each rule's first required word to the rules needing
it: a search checks only the rules its own words can satisfy, however many rules exist.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sift.engine.analysis import Analyzer
from sift.engine.curation import Curation, Pin, Scale
from sift.rules.model import parse_time

_WORDS = Analyzer()  # case, accents and punctuation as the default analyzer reads them


def query_words(text: str | None) -> list[str]:
    return _WORDS.words(text or "")


@dataclass(frozen=True)
class CompiledRule:
    uid: str
    rank: tuple[int, int, str]  # precedence order
    words: tuple[str, ...]  # every one must be among the query's words
    is_empty: bool | None  # True: q empty; False: q not empty; None: either
    start: datetime | None
    end: datetime | None
    pins: tuple[tuple[str | None, Pin], ...]  # (indexUid, pin)
    scales: tuple[tuple[str | None, Scale], ...]

    def touches(self, index_uid: str) -> bool:
        return any(uid in (None, index_uid) for uid, _ in (*self.pins, *self.scales))

    def matches(self, words: set[str], empty: bool, now: datetime) -> bool:
        if self.is_empty is not None and self.is_empty != empty:
            return False
        if self.start is not None and now < self.start:
            return False
        if self.end is not None and now > self.end:
            return False
        return all(w in words for w in self.words)


def compile_rule(rule: dict[str, Any]) -> CompiledRule:
    conditions = rule.get("conditions") or {}
    query = conditions.get("query") or {}
    window = conditions.get("time") or {}
    precedence = rule.get("precedence")
    actions = rule.get("actions") or {}
    return CompiledRule(
        uid=rule["uid"],
        rank=(0 if precedence is not None else 1, precedence or 0, rule["uid"]),
        words=tuple(dict.fromkeys(query_words(query.get("words")))),
        is_empty=query.get("isEmpty"),
        start=parse_time("start", window["start"]) if window.get("start") else None,
        end=parse_time("end", window["end"]) if window.get("end") else None,
        pins=tuple((p.get("indexUid"), Pin(p["id"], int(p["position"])))
                   for p in actions.get("pin") or []),
        scales=tuple(
            (s.get("indexUid"), Scale(float(s["weight"]),
                                      tuple(s["ids"]) if s.get("ids") is not None else None,
                                      s.get("filter")))
            for s in actions.get("scale") or []
        ),
    )


@dataclass
class _IndexRules:
    """The active rules touching one index: those needing no word, and by first word."""

    wordless: list[CompiledRule] = field(default_factory=list)
    by_word: dict[str, list[CompiledRule]] = field(default_factory=lambda: defaultdict(list))


class RuleSet:
    """The active rules, compiled; immutable once built (a change builds a new one)."""

    def __init__(self, rules: list[dict[str, Any]]) -> None:
        self.rules = sorted((compile_rule(r) for r in rules if r.get("active", True)),
                            key=lambda r: r.rank)
        self._per_index: dict[str, _IndexRules] = {}

    def _for_index(self, index_uid: str) -> _IndexRules:
        found = self._per_index.get(index_uid)
        if found is None:
            found = _IndexRules()
            for rule in self.rules:
                if not rule.touches(index_uid):
                    continue
                if rule.words:
                    found.by_word[rule.words[0]].append(rule)
                else:
                    found.wordless.append(rule)
            self._per_index[index_uid] = found  # a race builds it twice, harmlessly
        return found

    def matching(self, index_uid: str, q: str | None, now: datetime) -> list[CompiledRule]:
        """The rules matching a search of ``index_uid`` for ``q`` at ``now``, in
        precedence order."""
        if not self.rules:
            return []
        table = self._for_index(index_uid)
        words = set(query_words(q))
        empty = not (q or "").strip()
        candidates = list(table.wordless)
        for word in words:
            candidates.extend(table.by_word.get(word, ()))
        found = [r for r in candidates if r.matches(words, empty, now)]
        found.sort(key=lambda r: r.rank)
        return found

    def curation(self, index_uid: str, q: str | None, now: datetime) -> Curation:
        """The actions of the matching rules that apply to ``index_uid``."""
        rules = self.matching(index_uid, q, now)
        return Curation(
            pins=tuple(p for r in rules for uid, p in r.pins if uid in (None, index_uid)),
            scales=tuple(s for r in rules for uid, s in r.scales if uid in (None, index_uid)),
        )
