"""Templates and static assets of the search page and the admin dashboard.

Assets are served under content-hashed names (``search.3f2a9c01de.css``) so they can
be cached forever (``immutable``); a change of content is a change of name. A
``ui_dir`` setting may hold ``templates/`` and ``static/`` folders whose files take
precedence over the built-in ones of the same name.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

if TYPE_CHECKING:
    from jinja2 import Environment

BUILTIN = Path(__file__).parent
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HTML_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    name: str  # hashed
    body: bytes
    media_type: str
    etag: str


class UI:
    def __init__(self, ui_dir: str | None = None) -> None:
        roots = [Path(ui_dir)] if ui_dir else []
        roots.append(BUILTIN)
        self.roots = roots
        self.assets: dict[str, Asset] = {}  # hashed name -> asset
        self.urls: dict[str, str] = {}  # plain name -> /static/hashed name
        for root in reversed(roots):  # later roots (the override) replace earlier ones
            static = root / "static"
            if static.is_dir():
                for path in sorted(static.iterdir()):
                    if path.is_file():
                        self._add(path)

    @cached_property
    def env(self) -> Environment:
        """Made at the first page rendered: Jinja (~2 MiB of RSS) stays out of a server whose
        pages nobody opens."""
        from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

        env = Environment(
            loader=ChoiceLoader([FileSystemLoader(str(r / "templates")) for r in self.roots]),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.globals["asset"] = self.asset_url
        return env

    def _add(self, path: Path) -> None:
        body = path.read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:12]
        stem, dot, ext = path.name.partition(".")
        hashed = f"{stem}.{digest}{dot}{ext}"
        old = self.urls.get(path.name)
        if old is not None:
            self.assets.pop(old.rsplit("/", 1)[-1], None)
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media.startswith("text/") or media.endswith(("javascript", "json", "svg+xml")):
            media += "; charset=utf-8"
        self.assets[hashed] = Asset(hashed, body, media, f'"{digest}"')
        self.urls[path.name] = f"/static/{hashed}"

    def asset_url(self, name: str) -> str:
        return self.urls[name]

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)

    def page(
        self,
        template: str,
        status: int = 200,
        cache: str = "no-store",
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> Response:
        """An HTML response with the security headers every page carries."""
        body = self.render(template, **context).encode()
        response = Response(body, status_code=status, media_type="text/html; charset=utf-8")
        response.headers.update(HTML_HEADERS)
        response.headers["Cache-Control"] = cache
        if headers:
            response.headers.update(headers)
        return response
