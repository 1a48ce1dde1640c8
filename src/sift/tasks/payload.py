"""Document payloads (JSON, NDJSON, CSV) normalised to NDJSON chunks.

Parsing happens while the request is being accepted, so a malformed payload is
refused with 400 before a task exists, and the worker only ever reads one
format. Input is read from a file object in a streaming fashion: memory grows
with the chunk size, not with the payload size.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import ijson
import orjson

from sift.errors import SiftError
from sift.inputs import DepthScanner, TooDeep, shown
from sift.inputs.surrogates import LoneSurrogate, SurrogateScanner

CHUNK_BYTES = 1 << 20  # ~1 MiB of NDJSON per stored chunk
MAX_FIELDS = 65_535  # Meilisearch's limit of fields in one document

CONTENT_TYPES = {
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "text/csv": "csv",
}
ACCEPTED = "`application/json`, `application/x-ndjson`, `text/csv`"


def payload_format(content_type: str | None) -> str:
    """Map a Content-Type header to json | ndjson | csv, or refuse it (415)."""
    if not content_type:
        raise SiftError(
            f"A Content-Type header is missing. Accepted values for the Content-Type header "
            f"are: {ACCEPTED}",
            "missing_content_type",
        )
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime not in CONTENT_TYPES:
        raise SiftError(
            f"The Content-Type `{content_type}` is invalid. Accepted values for the "
            f"Content-Type header are: {ACCEPTED}",
            "invalid_content_type",
        )
    return CONTENT_TYPES[mime]


def _malformed(fmt: str, detail: str) -> SiftError:
    return SiftError(f"The `{fmt}` payload provided is malformed. `{detail}`.", "malformed_payload")


def _object(doc: object, fmt: str) -> dict:
    if not isinstance(doc, dict):
        raise _malformed(fmt, f"Expected a document object, found `{shown(doc)}`")
    _check_fields(len(doc))
    return doc


def _check_fields(count: int) -> None:
    if count > MAX_FIELDS:
        raise SiftError(
            f"A document cannot contain more than {MAX_FIELDS:,} fields.",
            "max_fields_limit_exceeded",
        )


class _DepthChecked(io.RawIOBase):
    """A raw stream that checks every block's nesting before the parser reads it.

    The parser never sees a byte past the first one nesting deeper than MAX_DEPTH: ijson
    keeps one prefix string per level (memory grows with the square of the depth) and
    orjson, for NDJSON lines, cannot write back what it parsed beyond 255 levels."""

    def __init__(self, fh: BinaryIO, fmt: str) -> None:
        self._fh, self._fmt = fh, fmt
        self._scanner = DepthScanner()
        # A JSON array's documents are parsed by yajl, which takes an escaped lone
        # surrogate (sift.inputs.surrogates); orjson refuses it in NDJSON lines.
        self._surrogates = SurrogateScanner() if fmt == "json" else None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._fh.read(len(buffer))
        try:
            self._scanner.feed(data)
        except TooDeep as exc:
            raise _malformed(self._fmt, f"{exc} at byte {exc.offset}") from None
        if self._surrogates is not None:
            try:
                if data:
                    self._surrogates.feed(data)
                else:
                    self._surrogates.finish()
            except LoneSurrogate as exc:
                raise _malformed(self._fmt, f"{exc} at byte {exc.offset}") from None
        buffer[: len(data)] = data
        return len(data)


def iter_json(fh: BinaryIO) -> Iterator[dict]:
    head = fh.read(1)
    while head and head.isspace():
        head = fh.read(1)
    if not head:
        raise SiftError("A json payload is missing.", "missing_payload")
    if head == b"{":
        try:
            yield _object(orjson.loads(head + fh.read()), "json")
        except orjson.JSONDecodeError as exc:
            raise _malformed("json", str(exc)) from None
        return
    if head != b"[":
        raise _malformed("json", "expected a document object or an array of documents")
    stream = io.BufferedReader(_Prefixed(head, fh))  # type: ignore[arg-type]
    try:
        for doc in ijson.items(stream, "item", use_float=True):
            yield _object(doc, "json")
    except ijson.JSONError as exc:
        raise _malformed("json", str(exc)) from None
    except UnicodeDecodeError as exc:
        # yajl writes an escaped lone surrogate ("\ud800") as its three UTF-8 bytes, which
        # ijson then fails to decode (a 500); orjson refuses the same text as malformed.
        raise _malformed("json", f"invalid string: {exc.reason}") from None


class _Prefixed(io.RawIOBase):
    """A raw stream that first returns already-consumed bytes, then the rest of `fh`."""

    def __init__(self, prefix: bytes, fh: BinaryIO) -> None:
        self._prefix, self._fh = prefix, fh

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._prefix or self._fh.read(len(buffer))
        self._prefix = b""
        buffer[: len(data)] = data
        return len(data)


def iter_ndjson(fh: BinaryIO) -> Iterator[dict]:
    seen = False
    for number, line in enumerate(fh, start=1):
        if not line.strip():
            continue
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise _malformed("ndjson", f"line {number}: {exc}") from None
        seen = True
        yield _object(doc, "ndjson")
    if not seen:
        raise SiftError("A ndjson payload is missing.", "missing_payload")


def _csv_value(raw: str, kind: str, column: str, line: int) -> object:
    if kind == "string":
        return raw
    if raw == "":
        return None
    if kind == "number":
        try:
            number = float(raw)
        except ValueError:
            raise _malformed("csv", f"Error parsing number {raw!r} at line {line}") from None
        return (
            int(number)
            if number.is_integer() and "." not in raw and "e" not in raw.lower()
            else number
        )
    if kind == "boolean":
        if raw.strip().lower() in {"true", "false"}:
            return raw.strip().lower() == "true"
        raise _malformed("csv", f"Error parsing boolean {raw!r} at line {line}")
    raise _malformed("csv", f"Unknown type `{kind}` of column `{column}`")


def iter_csv(fh: BinaryIO, delimiter: str = ",") -> Iterator[dict]:
    text = codecs.getreader("utf-8")(fh)
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader)  # decoding reads ahead: a bad byte in row 2 can fail here
    except StopIteration:
        raise SiftError("A csv payload is missing.", "missing_payload") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _malformed("csv", str(exc)) from None
    _check_fields(len(header))
    columns: list[tuple[str, str]] = []
    for cell in header:
        name, _, kind = cell.rpartition(":") if ":" in cell else (cell, "", "string")
        columns.append((name, kind.strip().lower() or "string"))
    try:
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(columns):
                raise _malformed(
                    "csv", f"Line {line} has {len(row)} fields, expected {len(columns)}"
                )
            yield {
                name: _csv_value(raw, kind, name, line)
                for (name, kind), raw in zip(columns, row, strict=True)
            }
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _malformed("csv", str(exc)) from None


def iter_documents(fh: BinaryIO, fmt: str, csv_delimiter: str = ",") -> Iterator[dict]:
    if fmt in ("json", "ndjson"):
        checked = io.BufferedReader(_DepthChecked(fh, fmt), CHUNK_BYTES)  # type: ignore[arg-type]
        return iter_json(checked) if fmt == "json" else iter_ndjson(checked)
    return iter_csv(fh, csv_delimiter)


@dataclass
class NormalisedPayload:
    chunks: list[bytes]
    count: int


def ndjson_chunks(docs: Iterator[dict]) -> Iterator[tuple[bytes, int]]:
    """Group documents into NDJSON chunks of about CHUNK_BYTES; yields (chunk, docs in it)."""
    # Each line is appended to the chunk as soon as orjson writes it: its bytes keep the
    # ~4 KiB buffer they were written in, so a chunk's ~12k lines held until joined took
    # ~48 MiB (200k products' payload in process: peak RSS 109 -> 64 MiB); appended, no
    # line is kept nor copied on its own (the 200k payload's chunks: 0.12-0.16 -> 0.05-0.09
    # s of CPU in process).
    chunk = bytearray()
    count = 0
    for doc in docs:
        try:
            line = orjson.dumps(doc)
        except TypeError as exc:  # an integer beyond 64 bits: no JSON reader keeps it exact
            raise _malformed("json", f"{exc}: `{shown(doc)}`") from None
        if count:
            chunk += b"\n"
        chunk += line
        count += 1
        if len(chunk) + 1 >= CHUNK_BYTES:  # the lines' sizes with one newline each
            yield bytes(chunk), count
            chunk, count = bytearray(), 0
    if count:
        yield bytes(chunk), count


def chunk_lines(chunk: bytes) -> list[bytes]:
    """A stored chunk's documents, one NDJSON line each, as ndjson_chunks wrote them."""
    return [line for line in chunk.split(b"\n") if line]


def parse_chunk(chunk: bytes) -> list[dict]:
    return [orjson.loads(line) for line in chunk_lines(chunk)]


def validate_csv_delimiter(value: str | None) -> str:
    if value is None:
        return ","
    if len(value) != 1 or not value.isascii():
        raise SiftError(
            "Invalid value in parameter `csvDelimiter`: expected a string of one character, "
            f"but found the following string of {len(value)} characters: `{value}`",
            "invalid_document_csv_delimiter",
        )
    return value
