"""Request bodies sent with ``Content-Encoding`` (gzip, deflate, br), decoded as they stream.

Meilisearch accepts compressed payloads and SDKs send them (the Python SDK's
``compress=True`` gzips every body). Decoding chunk by chunk keeps memory flat and lets
the caller's size limit apply to the decoded bytes, which is what defeats
decompression bombs.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request

from sift.errors import SiftError
from sift.http.headers import header

try:  # brotli is optional: not a dependency of Sift, used when installed
    import brotli  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the environment
    brotli = None

MAX_OUTPUT_PER_STEP = 1 << 20  # bounds one decompress() call, whatever the ratio


class _ZlibDecoder:
    """zlib's decompressobj, drained in bounded steps."""

    def __init__(self, wbits: int) -> None:
        self._inner = zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> list[bytes]:
        out = [self._inner.decompress(data, MAX_OUTPUT_PER_STEP)]
        while self._inner.unconsumed_tail:
            out.append(self._inner.decompress(self._inner.unconsumed_tail, MAX_OUTPUT_PER_STEP))
        return out

    def finish(self) -> list[bytes]:
        rest = self._inner.flush()
        if not self._inner.eof:
            raise zlib.error("truncated stream")
        return [rest]


class _BrotliDecoder:
    def __init__(self) -> None:
        self._inner: Any = brotli.Decompressor()

    def feed(self, data: bytes) -> list[bytes]:
        return [self._inner.process(data)]

    def finish(self) -> list[bytes]:
        if not self._inner.is_finished():
            raise brotli.error("truncated stream")
        return []


DECODERS: dict[str, Callable[[], _ZlibDecoder | _BrotliDecoder]] = {
    "gzip": lambda: _ZlibDecoder(16 + zlib.MAX_WBITS),
    "x-gzip": lambda: _ZlibDecoder(16 + zlib.MAX_WBITS),
    # HTTP's "deflate" is the zlib format (RFC 1950), not raw deflate.
    "deflate": lambda: _ZlibDecoder(zlib.MAX_WBITS),
}
if brotli is not None:  # pragma: no cover - depends on the environment
    DECODERS["br"] = _BrotliDecoder

DECODE_ERRORS: tuple[type[Exception], ...] = (zlib.error,)
if brotli is not None:  # pragma: no cover - depends on the environment
    DECODE_ERRORS = (zlib.error, brotli.error)


def _encoding(request: Request) -> str | None:
    raw = header(request.scope, b"content-encoding")
    if raw is None:
        return None
    name = raw.strip().lower()
    if name in ("", "identity"):
        return None
    if name not in DECODERS:
        supported = ", ".join(f"`{n}`" for n in sorted(DECODERS))
        raise SiftError(
            f"The `{raw}` content encoding is not supported. Supported encodings are: "
            f"{supported}, `identity`.",
            "bad_request",
        )
    return name


async def body_stream(request: Request) -> AsyncIterator[bytes]:
    """The request body, decoded according to its Content-Encoding."""
    name = _encoding(request)
    if name is None:
        async for chunk in request.stream():
            if chunk:
                yield chunk
        return
    decoder = DECODERS[name]()
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            for piece in decoder.feed(chunk):
                if piece:
                    yield piece
        for piece in decoder.finish():
            if piece:
                yield piece
    except DECODE_ERRORS as exc:
        raise SiftError(
            f"The payload could not be decoded as `{name}`: {exc}.", "malformed_payload"
        ) from None


async def read_body(request: Request, limit: int | None = None) -> bytes:
    """The whole decoded body; `limit` caps its decoded size (413 beyond it)."""
    parts: list[bytes] = []
    size = 0
    # A plain body straight from Starlette: one async generator less per search.
    chunks = request.stream() if _encoding(request) is None else body_stream(request)
    async for chunk in chunks:
        size += len(chunk)
        if limit is not None and size > limit:
            raise payload_too_large(limit)
        parts.append(chunk)
    return b"".join(parts)


def payload_too_large(limit: int) -> SiftError:
    return SiftError(
        f"The provided payload reached the size limit. The maximum accepted payload size is "
        f"{limit / (1 << 20):.2f} MiB.",
        "payload_too_large",
    )
