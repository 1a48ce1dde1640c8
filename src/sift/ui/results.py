"""How the search page shows a search's answer: hit titles with their highlights, field
values as a person reads them, facet values ordered by count. Pure functions over the
API's JSON, so the page rendered on the server and the one JavaScript refreshes are the
same page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MARK_START, MARK_END = "\u0002", "\u0003"  # highlight sentinels, turned into <mark> safely
HIDDEN_FIELDS = {"_geo", "_formatted", "_rankingScore", "_vectors", "_matchesPosition"}
# A hit's title links to the document's own page when it has one of these, as a URL.
URL_FIELDS = ("url", "link", "href", "permalink", "canonicalUrl")
FACET_TOP = 8  # values shown before "Show more"
BOOLEAN_LABELS = {"true": "yes", "false": "no"}


def marked(text: Any) -> list[tuple[bool, str]]:
    """Split highlighted text into (is_match, text) runs; the template escapes each."""
    runs: list[tuple[bool, str]] = []
    for i, part in enumerate(str(text).split(MARK_START)):
        if i == 0:
            runs.append((False, part))
            continue
        match, _, rest = part.partition(MARK_END)
        runs.append((True, match))
        runs.append((False, rest))
    return [r for r in runs if r[1]]


def code_runs(text: str) -> list[tuple[bool, str]]:
    """An API message's `quoted` names as (is_code, text) runs: shown as code, not backticks."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: leave the text alone
        return [(False, text)]
    return [(i % 2 == 1, part) for i, part in enumerate(parts) if part]


def humanize(name: str) -> str:
    words = "".join(" " + c.lower() if c.isupper() else c for c in name).replace("_", " ")
    return words.strip().capitalize()


def display(value: Any) -> str:
    """A field value as text. Digits are grouped from 10,000 up only, so a year reads 1999."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, list):
        return ", ".join(display(v) for v in value[:5])
    if isinstance(value, dict):
        return ", ".join(f"{k} {display(v)}" for k, v in list(value.items())[:3])
    return str(value)


def document_url(hit: dict[str, Any]) -> tuple[str | None, str | None]:
    """The hit's own page, if it names one: (field, URL)."""
    for name in URL_FIELDS:
        value = hit.get(name)
        if isinstance(value, str) and value.startswith(("https://", "http://", "/")):
            return name, value
    return None, None


def hit_view(hit: dict[str, Any], title: str | None, primary: str | None) -> dict[str, Any]:
    formatted = hit.get("_formatted") or hit
    url_field, url = document_url(hit)
    names = [k for k in hit if k not in HIDDEN_FIELDS and k not in (primary, url_field)]
    if title is None:
        title = next((k for k in names if isinstance(hit[k], str)), names[0] if names else None)
    fields = [
        (humanize(k), display(hit[k]))
        for k in names
        if k != title and hit[k] not in (None, "", []) and k != "countryCode"
    ][:6]
    heading = formatted.get(title, hit.get(title, "")) if title else ""
    key = hit.get(primary) if primary else None
    ident = None if key is None else str(key)  # what a click event names
    return {"title": marked(heading), "fields": fields, "url": url, "id": ident}


@dataclass
class Facet:
    field: str
    label: str
    values: list[tuple[str, str, int]]  # (value, label, count): selected first, then by count
    query: str = ""  # the facet-value search that found these values, if any

    @property
    def top(self) -> list[tuple[str, str, int]]:
        return self.values[:FACET_TOP]

    @property
    def more(self) -> list[tuple[str, str, int]]:
        return self.values[FACET_TOP:]

    @property
    def searchable(self) -> bool:
        return len(self.values) > FACET_TOP or bool(self.query)


def facet_view(
    field: str, counts: dict[str, int], selected: list[str], query: str = ""
) -> Facet:
    """Values by count (ties alphabetically), the selected ones first whatever their count;
    true/false read as yes/no, as in the results."""
    boolean = bool(counts) and set(counts) <= set(BOOLEAN_LABELS)
    ordered = sorted(counts.items(), key=lambda kv: (kv[0] not in selected, -kv[1], kv[0]))
    ordered += [(v, 0) for v in selected if v not in counts]
    values = [(v, BOOLEAN_LABELS[v] if boolean else v, n) for v, n in ordered]
    return Facet(field, humanize(field), values, query)


def value_label(value: str, facet: Facet | None) -> str:
    """How a selected value reads in the chips above the results."""
    for v, label, _ in facet.values if facet else []:
        if v == value:
            return label
    return value
