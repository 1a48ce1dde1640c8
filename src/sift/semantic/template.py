"""`documentTemplate`: the text an embedder sees for a document.

A small, safe subset of Liquid, enough for the templates Meilisearch documents:

* ``{{ doc.title }}``, ``{{ doc.author.name }}`` — a document field (lists joined by ", ");
* filters ``| default: "x"``, ``| truncatewords: 20``, ``| upcase``, ``| downcase``;
* ``{% if doc.x %}...{% else %}...{% endif %}`` — truthiness, ``== / != "literal"`` and ``nil``;
* ``{% for field in fields %}...{% endfor %}`` over the document's top-level fields, with
  ``field.name``, ``field.value`` and ``field.is_searchable``.

Nothing else is evaluated: no attribute access on Python objects, no includes, no
assignments, so a template written by an API client cannot reach anything but the
document. The rendered text is cut to ``documentTemplateMaxBytes`` (UTF-8, at a
character boundary) because embedders have a bounded context and cost grows with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sift.errors import SiftError

DEFAULT_TEMPLATE = (
    "{% for field in fields %}{% if field.is_searchable and field.value != nil %}"
    "{{ field.name }}: {{ field.value }}\n{% endif %}{% endfor %}"
)
DEFAULT_MAX_BYTES = 400

_TOKEN = re.compile(r"({{.*?}}|{%.*?%})", re.S)
_PATH = re.compile(r"^[A-Za-z_][\w]*(\.[\w-]+)*$")


class TemplateSyntaxError(SiftError):
    """A template that does not compile. Raised as an embedder setting's error;
    ``reason`` is the bare cause, for callers that report it under their own code."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"`.embedders`: documentTemplate: {reason}", "invalid_settings_embedders")
        self.reason = reason


def _error(message: str) -> SiftError:
    return TemplateSyntaxError(message)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def _lookup(scope: dict[str, Any], path: str) -> Any:
    parts = path.split(".")
    value: Any = scope.get(parts[0])
    for part in parts[1:]:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _literal(raw: str) -> tuple[bool, Any]:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return True, raw[1:-1]
    if raw == "nil":
        return True, None
    if raw in ("true", "false"):
        return True, raw == "true"
    if re.fullmatch(r"-?\d+", raw):
        return True, int(raw)
    return False, None


def _operand(raw: str) -> Callable[[dict[str, Any]], Any]:
    is_lit, value = _literal(raw)
    if is_lit:
        return lambda _scope: value
    path = raw.strip()
    if not _PATH.match(path):
        raise _error(f"cannot read `{path}`")
    return lambda scope: _lookup(scope, path)


def _filter(name: str, arg: str | None) -> Callable[[Any], Any]:
    if name == "default":
        fallback = _operand(arg or '""')({})
        return lambda v: fallback if v in (None, "", []) else v
    if name == "truncatewords":
        try:
            count = int(arg or "15")
        except ValueError:
            raise _error(f"`truncatewords` takes a whole number of words, not `{arg}`") from None
        return lambda v: " ".join(_text(v).split()[:count])
    if name == "upcase":
        return lambda v: _text(v).upper()
    if name == "downcase":
        return lambda v: _text(v).lower()
    raise _error(f"unknown filter `{name}`")


def _expression(raw: str) -> Callable[[dict[str, Any]], Any]:
    head, *filters = raw.split("|")
    value = _operand(head)
    steps = []
    for item in filters:
        name, _, arg = item.partition(":")
        steps.append(_filter(name.strip(), arg.strip() or None))

    def run(scope: dict[str, Any]) -> Any:
        out = value(scope)
        for step in steps:
            out = step(out)
        return out

    return run


def _condition(raw: str) -> Callable[[dict[str, Any]], bool]:
    ors = [part for part in re.split(r"\s+or\s+", raw.strip())]
    groups = [[_comparison(p) for p in re.split(r"\s+and\s+", part)] for part in ors]
    return lambda scope: any(all(c(scope) for c in group) for group in groups)


def _comparison(raw: str) -> Callable[[dict[str, Any]], bool]:
    match = re.match(r"^(.+?)\s*(==|!=)\s*(.+)$", raw.strip())
    if match is None:
        value = _operand(raw)
        return lambda scope: value(scope) not in (None, False, "", [])
    left, op, right = _operand(match.group(1)), match.group(2), _operand(match.group(3))
    if op == "==":
        return lambda scope: left(scope) == right(scope)
    return lambda scope: left(scope) != right(scope)


@dataclass
class _Node:
    kind: str  # "text" | "out" | "if" | "for"
    text: str = ""
    expr: Any = None
    body: list[_Node] | None = None
    other: list[_Node] | None = None


def _parse(tokens: list[str], pos: int, until: tuple[str, ...]) -> tuple[list[_Node], int, str]:
    nodes: list[_Node] = []
    while pos < len(tokens):
        token = tokens[pos]
        pos += 1
        if token.startswith("{{"):
            nodes.append(_Node("out", expr=_expression(token[2:-2])))
        elif token.startswith("{%"):
            tag = token[2:-2].strip()
            word = tag.split(None, 1)[0] if tag else ""
            if word in until:
                return nodes, pos, word
            if word == "if":
                body, pos, end = _parse(tokens, pos, ("else", "endif"))
                other: list[_Node] = []
                if end == "else":
                    other, pos, end = _parse(tokens, pos, ("endif",))
                nodes.append(_Node("if", expr=_condition(tag[2:]), body=body, other=other))
            elif word == "for":
                if not re.fullmatch(r"for\s+field\s+in\s+fields", tag):
                    raise _error("only `{% for field in fields %}` loops are supported")
                body, pos, _ = _parse(tokens, pos, ("endfor",))
                nodes.append(_Node("for", body=body))
            else:
                raise _error(f"unsupported tag `{tag}`")
        elif token:
            nodes.append(_Node("text", text=token))
    if until:
        raise _error(f"missing `{{% {until[-1]} %}}`")
    return nodes, pos, ""


class DocumentTemplate:
    """A compiled template; :meth:`render` never raises on document content."""

    def __init__(self, source: str | None = None, max_bytes: int | None = None) -> None:
        self.source = DEFAULT_TEMPLATE if source is None else source
        self.max_bytes = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
        self._nodes, _, _ = _parse(_TOKEN.split(self.source), 0, ())
        self.uses_fields = "fields" in self.source

    def render(self, doc: dict[str, Any], searchable: Callable[[str], bool] | None = None,
               variables: dict[str, Any] | None = None) -> str:
        """``variables``: more names the template may read besides ``doc`` (a search
        fragment's ``q`` and ``media``)."""
        scope: dict[str, Any] = {**(variables or {}), "doc": doc}
        out: list[str] = []
        self._run(self._nodes, scope, out, doc, searchable or (lambda _name: True))
        raw = "".join(out).encode()
        if len(raw) <= self.max_bytes:
            return raw.decode()
        return raw[: self.max_bytes].decode(errors="ignore")

    def _run(
        self,
        nodes: list[_Node],
        scope: dict[str, Any],
        out: list[str],
        doc: dict[str, Any],
        searchable: Callable[[str], bool],
    ) -> None:
        for node in nodes:
            if node.kind == "text":
                out.append(node.text)
            elif node.kind == "out":
                out.append(_text(node.expr(scope)))
            elif node.kind == "if":
                branch = node.body if node.expr(scope) else node.other
                self._run(branch or [], scope, out, doc, searchable)
            else:
                for name, value in doc.items():
                    if name == "_vectors":
                        continue
                    field = {"name": name, "value": value, "is_searchable": searchable(name)}
                    self._run(node.body or [], {**scope, "field": field}, out, doc, searchable)
