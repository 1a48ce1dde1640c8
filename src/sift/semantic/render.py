"""`POST /render-template`: a template rendered on one input, to preview what an
embedder would see (Meilisearch's `renderRoute` experimental feature).

The request names a template and, optionally, an input, each by its `kind`:

* templates: `documentTemplate` (an embedder's, `indexUid` + `embedder`),
  `chatDocumentTemplate` (an index's `chat` setting, `indexUid`),
  `inlineDocumentTemplate` (`inline` text, optional `documentTemplateMaxBytes`) and
  `inlineFragment` (`inline` JSON whose strings are templates). Sift's embedders have no
  fragments (Meilisearch's `multimodal` feature), so `searchFragment` and
  `indexingFragment` are refused with the reason.
* inputs: `indexDocument` (`indexUid` + `id`), `inlineDocument` (`inline` object, read as
  `doc`) and `inlineSearch` (`inline` object whose `q` and `media` the template reads).

No input: the template comes back unrendered (`rendered: null`). This module checks the
request and renders; the HTTP route reads the settings and the document it names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sift.errors import SiftError
from sift.inputs.echo import kind_of, shown
from sift.semantic.template import DEFAULT_TEMPLATE, DocumentTemplate, TemplateSyntaxError

# kind -> the fields it takes besides `kind` (all required but the max bytes)
TEMPLATE_KINDS: Final[dict[str, tuple[str, ...]]] = {
    "documentTemplate": ("indexUid", "embedder"),
    "chatDocumentTemplate": ("indexUid",),
    "inlineDocumentTemplate": ("inline", "documentTemplateMaxBytes"),
    "inlineFragment": ("inline",),
    "searchFragment": ("indexUid", "embedder", "fragment"),
    "indexingFragment": ("indexUid", "embedder", "fragment"),
}
INPUT_KINDS: Final[dict[str, tuple[str, ...]]] = {
    "indexDocument": ("indexUid", "id"),
    "inlineDocument": ("inline",),
    "inlineSearch": ("inline",),
}
_OPTIONAL: Final = {"documentTemplateMaxBytes"}
Renderer = Callable[[dict[str, Any], dict[str, Any]], Any]  # (doc, variables) -> rendered
# A fragment is JSON for an embedder's request, not an embedder's text: nothing to cut.
_FRAGMENT_MAX_BYTES: Final = 1 << 30


@dataclass(frozen=True)
class TemplateSpec:
    kind: str
    index_uid: str | None = None
    embedder: str | None = None
    inline: Any = None
    max_bytes: int | None = None


@dataclass(frozen=True)
class InputSpec:
    kind: str
    index_uid: str | None = None
    doc_id: str | None = None
    inline: Any = None


def _object(value: Any, where: str, code: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SiftError(
            f"Invalid value type at `{where}`: expected an object, but found "
            f"{kind_of(value)}: `{shown(value)}`",
            code,
        )
    return value


def _fields(body: dict[str, Any], kinds: dict[str, tuple[str, ...]], where: str,
            code: str) -> tuple[str, dict[str, Any]]:
    kind = body.get("kind")
    if kind not in kinds:
        listed = ", ".join(f"`{k}`" for k in kinds)
        raise SiftError(
            f"Invalid value at `{where}.kind`: expected one of {listed}, but found "
            f"`{shown(kind)}`",
            code,
        )
    allowed = kinds[kind]
    for name in body:
        if name != "kind" and name not in allowed:
            listed = ", ".join(f"`{a}`" for a in ("kind", *allowed))
            raise SiftError(
                f"Unknown field `{shown(name)}` inside `{where}` for kind `{kind}`: expected "
                f"one of {listed}",
                code,
            )
    for name in allowed:
        if name not in _OPTIONAL and body.get(name) is None:
            raise SiftError(f"Missing field `{name}` inside `{where}` for kind `{kind}`", code)
    return kind, body


def _string(body: dict[str, Any], name: str, where: str, code: str) -> str:
    value = body[name]
    if not isinstance(value, str):
        raise SiftError(
            f"Invalid value type at `{where}.{name}`: expected a string, but found "
            f"{kind_of(value)}: `{shown(value)}`",
            code,
        )
    return value


def parse(body: dict[str, Any]) -> tuple[TemplateSpec, InputSpec | None]:
    """The request's template and input, checked; raises Meilisearch's render codes."""
    for name in body:
        if name not in ("template", "input"):
            raise SiftError(
                f"Unknown field `{shown(name)}`: expected one of `template`, `input`",
                "bad_request",
            )
    if body.get("template") is None:
        raise SiftError("Missing field `template`", "invalid_render_template")
    return _template(body["template"]), _input(body.get("input"))


def _template(raw: Any) -> TemplateSpec:
    code = "invalid_render_template"
    kind, body = _fields(_object(raw, ".template", code), TEMPLATE_KINDS, ".template", code)
    if kind in ("searchFragment", "indexingFragment"):
        raise SiftError(
            f"Sift's embedders have no fragments (Meilisearch's `multimodal` feature), so "
            f"there is no `{kind}` to render: use `inlineFragment` to try one.",
            code,
        )
    if kind == "inlineDocumentTemplate":
        inline = _string(body, "inline", ".template", "invalid_render_template_inline")
        max_bytes = body.get("documentTemplateMaxBytes")
        if max_bytes is not None and (
            isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0
        ):
            raise SiftError(
                f"Invalid value at `.template.documentTemplateMaxBytes`: expected a positive "
                f"integer, but found `{shown(max_bytes)}`",
                code,
            )
        return TemplateSpec(kind, inline=inline, max_bytes=max_bytes)
    if kind == "inlineFragment":
        return TemplateSpec(kind, inline=body["inline"])
    embedder = _string(body, "embedder", ".template", code) if "embedder" in body else None
    return TemplateSpec(kind, _string(body, "indexUid", ".template", code), embedder)


def _input(raw: Any) -> InputSpec | None:
    if raw is None:
        return None
    code = "invalid_render_input"
    kind, body = _fields(_object(raw, ".input", code), INPUT_KINDS, ".input", code)
    if kind == "indexDocument":
        doc_id = body["id"]
        if isinstance(doc_id, int) and not isinstance(doc_id, bool):
            doc_id = str(doc_id)
        if not isinstance(doc_id, str) or not doc_id:
            raise SiftError(
                f"Invalid value at `.input.id`: expected a document id (a string or an "
                f"integer), but found `{shown(doc_id)}`",
                "invalid_render_input_document_id",
            )
        return InputSpec(kind, _string(body, "indexUid", ".input", code), doc_id)
    inline = _object(body["inline"], ".input.inline", "invalid_render_input_inline")
    if kind == "inlineSearch":
        for name in inline:
            if name not in ("q", "media"):
                raise SiftError(
                    f"Unknown field `{shown(name)}` inside `.input.inline`: expected one of "
                    "`q`, `media`",
                    "invalid_render_input_inline",
                )
    return InputSpec(kind, inline=inline)


def stored_template(spec: TemplateSpec, settings: dict[str, Any]) -> tuple[str, int | None]:
    """(source, max bytes) of the template an index's settings hold for ``spec``."""
    if spec.kind == "chatDocumentTemplate":
        chat = settings.get("chat") or {}
        return str(chat.get("documentTemplate") or ""), chat.get("documentTemplateMaxBytes")
    config = (settings.get("embedders") or {}).get(spec.embedder)
    if not isinstance(config, dict):
        raise SiftError(
            f"Cannot find embedder `{spec.embedder}` in index `{spec.index_uid}`.",
            "invalid_render_template",
        )
    if config.get("source") == "userProvided":
        raise SiftError(
            f"Embedder `{spec.embedder}` of index `{spec.index_uid}` is `userProvided`: its "
            "vectors come with the documents, so it has no document template.",
            "invalid_render_template",
        )
    source = config.get("documentTemplate")
    return DEFAULT_TEMPLATE if source is None else source, config.get("documentTemplateMaxBytes")


def _compile(source: str, max_bytes: int | None, where: str | None) -> DocumentTemplate:
    """``where``: the inline template's path, None for a template from the settings."""
    try:
        return DocumentTemplate(source, max_bytes)
    except TemplateSyntaxError as exc:
        if where is None:  # the chat template is stored as given, never compiled before
            raise SiftError(f"The stored template does not compile: {exc.reason}",
                            "invalid_render_template") from None
        raise SiftError(f"`{where}`: {exc.reason}", "invalid_render_template_inline") from None


def render(
    spec: TemplateSpec,
    stored: tuple[str, int | None] | None,
    given: InputSpec | None,
    document: dict[str, Any] | None,
    searchable: Callable[[str], bool],
) -> dict[str, Any]:
    """`{template, rendered}`: ``stored`` is :func:`stored_template`'s answer for a template
    from an index, ``document`` the stored document an `indexDocument` input names."""
    template: Any
    renderer: Renderer
    if spec.kind == "inlineFragment":
        template, renderer = spec.inline, _fragment(spec.inline, ".template.inline")
    else:
        source, max_bytes = stored if stored is not None else (spec.inline, spec.max_bytes)
        compiled = _compile(source, max_bytes, None if stored else ".template.inline")
        template = source

        def renderer(doc: dict[str, Any], variables: dict[str, Any]) -> str:
            return compiled.render(doc, searchable, variables)

    if given is None:
        return {"template": template, "rendered": None}
    if given.kind == "inlineSearch":
        variables = {"q": given.inline.get("q"), "media": given.inline.get("media")}
        return {"template": template, "rendered": renderer({}, variables)}
    doc = document if given.kind == "indexDocument" else given.inline
    return {"template": template, "rendered": renderer(doc or {}, {})}


def _fragment(value: Any, where: str) -> Renderer:
    """A fragment renders every string it holds as a template, keeping its JSON shape."""
    if isinstance(value, str):
        one = _compile(value, _FRAGMENT_MAX_BYTES, where)
        return lambda doc, variables: one.render(doc, None, variables)
    if isinstance(value, list):
        parts = [_fragment(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return lambda doc, variables: [p(doc, variables) for p in parts]
    if isinstance(value, dict):
        fields = {k: _fragment(v, f"{where}.{k}") for k, v in value.items()}
        return lambda doc, variables: {k: p(doc, variables) for k, p in fields.items()}
    return lambda _doc, _variables: value
