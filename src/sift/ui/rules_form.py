"""The dashboard's search rule form: a rule as form fields and back (pure functions).

Pins and scales are edited as lines of text, one action per line, so the form works with
a keyboard and a screen reader and without a script:

- a pin: ``position, document id[, index uid]``, the position counted from 1 (the first
  result), as Meilisearch Cloud's editor counts; the API counts from 0.
- a scale: ``weight, index uid or *, ids: a b c`` or ``weight, index uid or *, filter: …``;
  a weight above 1 boosts, below 1 demotes, 0 hides.

The API validates the result as it validates any client's, so the form only splits lines.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def _when(value: str | None) -> str:
    """An RFC 3339 time as a ``datetime-local`` value (UTC, to the minute)."""
    if not value:
        return ""
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return when.strftime("%Y-%m-%dT%H:%M")


def fields_of(rule: dict[str, Any] | None) -> dict[str, str]:
    """The form's fields for a stored rule (empty ones for a new rule)."""
    rule = rule or {}
    conditions = rule.get("conditions") or {}
    query = conditions.get("query") or {}
    window = conditions.get("time") or {}
    actions = rule.get("actions") or {}
    pins = [", ".join([str(p["position"] + 1), p["id"], *filter(None, [p.get("indexUid")])])
            for p in actions.get("pin") or []]
    scales = []
    for s in actions.get("scale") or []:
        weight = f"{s['weight']:g}"
        selection = (f"filter: {s['filter']}" if isinstance(s.get("filter"), str)
                     else f"ids: {' '.join(s.get('ids') or [])}" if s.get("ids") is not None
                     else "")
        scales.append(", ".join(x for x in (weight, s.get("indexUid") or "*", selection) if x))
    precedence = rule.get("precedence")
    return {
        "uid": rule.get("uid", ""),
        "description": rule.get("description") or "",
        "precedence": "" if precedence is None else str(precedence),
        "active": "on" if rule.get("active", True) else "",
        "words": query.get("words") or "",
        "empty": "on" if query.get("isEmpty") else "",
        "start": _when(window.get("start")),
        "end": _when(window.get("end")),
        "pins": "\n".join(pins),
        "scales": "\n".join(scales),
    }


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _pin(number: int, line: str) -> dict[str, Any]:
    parts = [p.strip() for p in line.split(",")]
    if len(parts) not in (2, 3) or not parts[0].isdigit() or int(parts[0]) < 1 or not parts[1]:
        raise ValueError(f"Pinned documents, line {number}: write “position, document id” or "
                         "“position, document id, index”, the position from 1.")
    return {"id": parts[1], "position": int(parts[0]) - 1,
            "indexUid": parts[2] if len(parts) == 3 and parts[2] else None}


def _scale(number: int, line: str) -> dict[str, Any]:
    parts = [p.strip() for p in line.split(",", 2)]
    hint = (f"Boosts and hides, line {number}: write “weight, index or *, ids: a b” or "
            "“weight, index or *, filter: …”.")
    if len(parts) < 2:
        raise ValueError(hint)
    try:
        weight = float(parts[0])
    except ValueError:
        raise ValueError(hint) from None
    out: dict[str, Any] = {"weight": weight,
                           "indexUid": None if parts[1] in ("", "*") else parts[1]}
    selection = parts[2] if len(parts) == 3 else ""
    kind, _, value = selection.partition(":")
    if kind.strip() == "ids":
        out["ids"] = value.split()
    elif kind.strip() == "filter":
        out["filter"] = value.strip()
    elif selection:
        raise ValueError(hint)
    return out


def _time(value: str) -> str | None:
    return f"{value}:00Z" if value and len(value) == 16 else (value or None)


def body_of(form: dict[str, str]) -> dict[str, Any]:
    """The PATCH body a submitted form stands for; ValueError names a line it cannot read."""
    words = form.get("words", "").strip()
    empty = form.get("empty") == "on"
    query = {"isEmpty": True, "words": None} if empty else (
        {"isEmpty": None, "words": words} if words else None)
    start, end = _time(form.get("start", "").strip()), _time(form.get("end", "").strip())
    precedence = form.get("precedence", "").strip()
    return {
        "description": form.get("description", "").strip() or None,
        "precedence": int(precedence) if precedence.isdigit() else (precedence or None),
        "active": form.get("active") == "on",
        "conditions": {"query": query,
                       "time": {"start": start, "end": end} if start or end else None},
        "actions": {
            "pin": [_pin(i, line) for i, line in enumerate(_lines(form.get("pins", "")), 1)],
            "scale": [_scale(i, line)
                      for i, line in enumerate(_lines(form.get("scales", "")), 1)],
        },
    }


def summary(rule: dict[str, Any]) -> tuple[str, str]:
    """(conditions, actions) of a rule in words, for the list."""
    fields = fields_of(rule)
    when = []
    if fields["empty"]:
        when.append("the query is empty")
    elif fields["words"]:
        when.append(f"the query has the words “{fields['words']}”")
    if fields["start"] or fields["end"]:
        when.append(f"between {fields['start'] or 'any time'} and {fields['end'] or 'any time'}"
                    " UTC")
    actions = rule.get("actions") or {}
    does = [f"pin {p['id']} at {p['position'] + 1}" for p in actions.get("pin") or []]
    for s in actions.get("scale") or []:
        verb = "hide" if s["weight"] == 0 else "boost" if s["weight"] > 1 else "demote"
        target = (f"ids {' '.join(s['ids'])}" if s.get("ids") is not None
                  else f"“{s['filter']}”" if s.get("filter") else "every document")
        does.append(f"{verb} {target} (weight {s['weight']:g})")
    return ("; ".join(when) or "every search", "; ".join(does) or "nothing")
