"""Webhooks as the API sees them: validation, the reserved webhook from the
configuration, and how a webhook is shown (authorization values redacted).

Meilisearch's model: up to ``MAX_WEBHOOKS`` webhooks made through ``/webhooks``
(editable) plus one from the instance's options (``--task-webhook-url``, shown with
the nil UUID and ``isEditable: false``). Every finished batch of tasks is POSTed to
each of them (delivery: ``sift.ops.webhook_delivery``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sift.errors import SiftError
from sift.inputs import shown
from sift.ops.redaction import redact

MAX_WEBHOOKS = 20
MAX_HEADERS = 200
RESERVED_UUID = "00000000-0000-0000-0000-000000000000"
# An HTTP field name (RFC 9110 token); values may not hold line breaks.
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass(frozen=True)
class Webhook:
    uuid: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    editable: bool = True


def reserved(url: str | None, authorization: str | None) -> Webhook | None:
    """The webhook the instance's options configure, if any."""
    if not url:
        return None
    headers = {"Authorization": authorization} if authorization else {}
    return Webhook(RESERVED_UUID, check_url(url), headers, editable=False)


def check_url(value: Any) -> str:
    if not isinstance(value, str):
        kind = "null" if value is None else type(value).__name__
        raise SiftError(
            f"Invalid value type at `.url`: expected a string, but found {kind}",
            "invalid_webhook_url",
        )
    try:
        parts = urlsplit(value)
        absolute = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises for a port that is no number or out of range
    except ValueError:  # an unclosed `[` of an IPv6 address, a port that is no number
        absolute = False
    if not absolute:
        raise SiftError(
            f"Invalid value at `.url`: `{shown(value)}` is not an absolute http or https URL.",
            "invalid_webhook_url",
        )
    return value


def merge_headers(current: dict[str, str], value: Any) -> dict[str, str]:
    """``headers`` of a create or update body applied to ``current``: a null value
    removes that header, ``"headers": null`` removes them all."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SiftError(
            "Invalid value type at `.headers`: expected an object", "invalid_webhook_headers"
        )
    merged = dict(current)
    for name, header in value.items():
        if not HEADER_NAME.match(name):
            raise SiftError(
                f"Invalid value at `.headers`: `{name}` is not a valid HTTP header name.",
                "invalid_webhook_headers",
            )
        if header is None:
            merged.pop(name, None)
            continue
        if not isinstance(header, str) or "\r" in header or "\n" in header:
            raise SiftError(
                f"Invalid value at `.headers.{name}`: expected a string without line breaks.",
                "invalid_webhook_headers",
            )
        merged[name] = header
    if len(merged) > MAX_HEADERS:
        raise SiftError(
            f"Too many headers for the webhook: {len(merged)}. The maximum is {MAX_HEADERS}.",
            "invalid_webhook_headers",
        )
    return merged


def view(webhook: Webhook) -> dict[str, Any]:
    headers = {
        name: redact(value) if name.lower() in ("authorization", "proxy-authorization") else value
        for name, value in webhook.headers.items()
    }
    return {
        "uuid": webhook.uuid,
        "url": webhook.url,
        "headers": headers,
        "isEditable": webhook.editable,
    }
