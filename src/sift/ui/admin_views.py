"""What the dashboard shows and reads back: task durations and details as a person reads
them, documents as field lists, an index's settings as one form per group of settings,
and API key actions grouped by resource with presets. Pure functions over the API's JSON
and the forms' fields, so the routes stay thin and each piece is tested on its own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from sift.ui.results import display, humanize

_DURATION = re.compile(r"^P(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$")


def duration(value: str | None) -> str:
    """An ISO 8601 duration as the API gives it (`PT0.001918S`) in words: `2 ms`, `1.4 s`,
    `3 min 20 s`."""
    match = _DURATION.match(value or "")
    if not value or not match:
        return value or ""
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = days * 86400 + hours * 3600 + minutes * 60 + seconds
    if total < 1:
        return f"{max(total * 1000, 0):.0f} ms" if total >= 0.0005 else "< 1 ms"
    if total < 60:
        return f"{total:.1f} s"
    whole = round(total)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value(v)}" for k, v in value.items()) or "none"
    return display(value)


def task_details(task: dict[str, Any]) -> list[tuple[str, str]]:
    """A task's details (or error) as (label, text) pairs: lists as commas, not `['a']`."""
    if task.get("error"):
        return [("Error", str(task["error"].get("message", "")))]
    return [(humanize(k), _value(v)) for k, v in (task.get("details") or {}).items()]


@dataclass
class DocumentView:
    id: str
    title: str
    fields: list[tuple[str, str, bool]]  # (name, text, is_structured: shown as JSON)


def document_view(doc: dict[str, Any], primary: str | None) -> DocumentView:
    ident = str(doc.get(primary, "")) if primary else ""
    title = next((v for k, v in doc.items() if k != primary and isinstance(v, str)), "")
    fields = []
    for name, value in doc.items():
        if isinstance(value, str):
            fields.append((name, value, False))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            fields.append((name, ", ".join(value), False))
        else:  # numbers, booleans, null, objects: as JSON, indented when long
            compact = orjson.dumps(value).decode()
            long = isinstance(value, dict | list) and len(compact) > 80
            text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() if long else compact
            fields.append((name, text, long))
    return DocumentView(ident, title[:120], fields)


# ---- settings, one form per group ---------------------------------------------------

@dataclass(frozen=True)
class SettingField:
    name: str  # the setting's name in the API
    kind: str  # "lines" (a list, one item a line), "text" (one string), "json"
    label: str
    help: str

    @property
    def code(self) -> str:
        """The API's error code for this setting: invalid_settings_<snake_case name>."""
        return "invalid_settings_" + re.sub(r"(?<!^)([A-Z])", r"_\1", self.name).lower()


@dataclass(frozen=True)
class SettingGroup:
    key: str
    title: str
    fields: tuple[SettingField, ...]


SETTING_GROUPS = (
    SettingGroup("search", "Searching", (
        SettingField("searchableAttributes", "lines", "Searchable attributes",
                     "One attribute a line, the most important first; * searches them all."),
        SettingField("displayedAttributes", "lines", "Displayed attributes",
                     "One attribute a line; * returns them all."),
    )),
    SettingGroup("filters", "Filters, facets and sorting", (
        SettingField("filterableAttributes", "lines", "Filterable attributes",
                     "One attribute a line: these can be filtered on and shown as facets."),
        SettingField("sortableAttributes", "lines", "Sortable attributes",
                     "One attribute a line."),
        SettingField("distinctAttribute", "text", "Distinct attribute",
                     "Documents sharing this attribute's value appear once; empty for none."),
        SettingField("faceting", "json", "Faceting",
                     'JSON, e.g. {"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "count"}}'),
    )),
    SettingGroup("ranking", "Ranking and pagination", (
        SettingField("rankingRules", "lines", "Ranking rules",
                     "One rule a line, applied in order: words, typo, proximity, attribute, "
                     "sort, exactness, or attribute:asc / attribute:desc."),
        SettingField("pagination", "json", "Pagination",
                     'JSON, e.g. {"maxTotalHits": 1000}: how far results can be paged.'),
    )),
    SettingGroup("words", "Words and typos", (
        SettingField("stopWords", "lines", "Stop words", "One word a line, ignored in queries."),
        SettingField("synonyms", "json", "Synonyms",
                     'JSON, e.g. {"sofa": ["couch"], "couch": ["sofa"]}'),
        SettingField("typoTolerance", "json", "Typo tolerance",
                     'JSON, e.g. {"enabled": true, "minWordSizeForTypos": {"oneTypo": 5}}'),
    )),
)  # fmt: skip
GROUPS_BY_KEY = {g.key: g for g in SETTING_GROUPS}


def field_text(field: SettingField, value: Any) -> str:
    """A setting's current value as its form field shows it."""
    if field.kind == "lines":
        return "\n".join(str(v) for v in value or [])
    if field.kind == "text":
        return "" if value is None else str(value)
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() if value is not None else ""


def parse_group(group: SettingGroup, form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The group's fields as a settings patch, and a message per field that does not parse.
    An empty field resets its setting to the default (null), as the API does."""
    patch: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in group.fields:
        raw = form.get(field.name, "").strip()
        if field.kind == "lines":
            lines = [line.strip() for line in raw.splitlines() if line.strip()]
            patch[field.name] = lines or None
        elif field.kind == "text":
            patch[field.name] = raw or None
        elif not raw:
            patch[field.name] = None
        else:
            try:
                patch[field.name] = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                errors[field.name] = f"Not valid JSON: {exc}"
    return patch, errors


def field_of_error(group: SettingGroup, code: str) -> str | None:
    """Which of the group's fields an API error code is about."""
    return next((f.name for f in group.fields if f.code == code), None)


# ---- API keys ------------------------------------------------------------------------

PRESETS = {
    "search": ("Search only", ["search"], "What a public search page needs."),
    "read": (
        "Read only",
        ["search", "*.get"],
        "Search and read documents, settings, stats and tasks; change nothing.",
    ),
    "admin": ("Admin", ["*"], "Every action, on the indexes below: keep it secret."),
}  # fmt: skip


def action_groups(actions: list[str]) -> list[tuple[str, list[str]]]:
    """Actions grouped by resource (`documents.add` under Documents), `*` and `search` first."""
    groups: dict[str, list[str]] = {}
    for action in actions:
        general = action.startswith("*") or "." not in action
        resource = "general" if general else action.split(".")[0]
        groups.setdefault(resource, []).append(action)
    general = groups.pop("general", [])
    ordered = [("General", sorted(general, key=lambda a: (a != "*", a != "search", a)))]
    ordered += [(humanize(r).replace("_", " "), sorted(a)) for r, a in sorted(groups.items())]
    return ordered
