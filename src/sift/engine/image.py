"""An index image: a :class:`SearchIndex` written to a file, loaded back at start.

Rebuilding an index from the database re-reads, re-parses and re-tokenises every
document (about five minutes for a million small products on a loaded 2-core machine);
loading an image is one unpickling. An image is only a cache of the database, so it is
trusted only when the caller has checked it against the database: the header carries a
:class:`ContentDigest` of the documents the index holds, the ``key`` the caller chose
(index settings, primary key, partition) and the fingerprint of the engine code that
wrote it, and the caller compares them before :func:`load` unpickles anything. Any
difference (a write since, other settings, another version of Sift) means a rebuild.

The body is a pickle: an image must only be read from a directory as trusted as the
database itself (the data directory); files are written with mode 0600.

File layout: ``MAGIC``, the header's length (8 bytes, little-endian), the header
(JSON), then the pickled index.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

import sift
from sift.engine.index import SearchIndex

MAGIC = b"SIFT-INDEX-IMAGE-1\n"
_LENGTH_BYTES = 8
_MODULUS = 1 << 128


class ContentDigest:
    """A digest of a set of (id, document) pairs that does not depend on their order: the
    sum of each pair's 128-bit BLAKE2b hash. The database lists documents in row order,
    the index in the order it received them (an updated document moves to the end), so
    the two sides can only be compared by something order-free. Each document is hashed
    as orjson writes it, the form the task worker stores."""

    def __init__(self) -> None:
        self.count = 0
        self._sum = 0

    def add(self, doc_id: str, doc: dict[str, Any]) -> None:
        self.add_json(doc_id, orjson.dumps(doc))

    def add_json(self, doc_id: str, body: bytes) -> None:
        """:meth:`add` for a document given as ``orjson.dumps`` writes it."""
        h = hashlib.blake2b(doc_id.encode(), digest_size=16)
        h.update(b"\x00")
        h.update(body)
        self._sum = (self._sum + int.from_bytes(h.digest(), "little")) % _MODULUS
        self.count += 1

    @property
    def hex(self) -> str:
        return self._sum.to_bytes(16, "little").hex()


@dataclass(frozen=True)
class Header:
    engine: str  # engine_fingerprint() of the writer
    key: dict[str, Any]  # what the caller says the index was built from (settings, ...)
    documents: int
    digest: str  # ContentDigest.hex of the documents the index holds


@functools.cache
def engine_fingerprint() -> str:
    """Sift's version, the engine's source and the versions of the libraries whose
    objects the pickle holds: an image written by other code is never unpickled."""
    h = hashlib.sha256(f"{sift.__version__} {sys.version}".encode())
    for package in ("numpy", "pyroaring", "orjson"):
        h.update(f" {package} {metadata.version(package)}".encode())
    engine = Path(__file__).parent
    for path in sorted(engine.rglob("*.py")):
        h.update(path.relative_to(engine).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def digest_of(index: SearchIndex) -> ContentDigest:
    """The digest of the documents ``index`` holds, as published."""
    snap = index.snapshot
    digest = ContentDigest()
    for docid, body in snap.docs.json_items():
        digest.add_json(snap.ext_ids[docid], body)
    return digest


def save(index: SearchIndex, path: Path, key: dict[str, Any]) -> Header:
    """Write ``index`` to ``path`` (atomically: a reader sees the old file or the new one)."""
    digest = digest_of(index)
    header = Header(engine_fingerprint(), key, digest.count, digest.hex)
    head = json.dumps(asdict(header), sort_keys=True).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + len(head).to_bytes(_LENGTH_BYTES, "little") + head)
            pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return header


def read_header(path: Path) -> Header | None:
    """The header of the image at ``path``; None when there is none, or it is not one
    this engine wrote."""
    try:
        with path.open("rb") as fh:
            if fh.read(len(MAGIC)) != MAGIC:
                return None
            length = int.from_bytes(fh.read(_LENGTH_BYTES), "little")
            header = Header(**json.loads(fh.read(length)))
    except (OSError, ValueError, TypeError):
        return None
    return header if header.engine == engine_fingerprint() else None


def load(path: Path) -> SearchIndex:
    """The index in the image at ``path``: call after its header was checked."""
    with path.open("rb") as fh:
        if fh.read(len(MAGIC)) != MAGIC:
            raise ValueError(f"{path} is not an index image")
        fh.seek(int.from_bytes(fh.read(_LENGTH_BYTES), "little"), os.SEEK_CUR)
        index = pickle.load(fh)
    if not isinstance(index, SearchIndex):
        raise ValueError(f"{path} does not hold a search index")
    return index
