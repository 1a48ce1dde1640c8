"""Document tasks: additions (replace or merge) and deletions, applied in batches.

A batch of document tasks is written in one transaction together with the
tasks' final statuses, so a crash at any moment leaves either all of it or none
of it; an interrupted batch simply runs again. Each task is validated in a first
pass over its payload (primary key, document ids) so that a failing task
changes nothing, then written in a second pass, batch by batch, to SQL and to
the search index.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, Protocol

import orjson
from sqlalchemy.engine import Connection

from sift.engine.index import SearchIndex
from sift.errors import SiftError
from sift.inputs import shown
from sift.semantic import service as semantic
from sift.storage import documents as doc_rows
from sift.storage import tasks as task_rows
from sift.storage.database import Database
from sift.storage.tasks import TaskRecord
from sift.tasks import progress
from sift.tasks.background import WriteBehind
from sift.tasks.payload import chunk_lines, parse_chunk

# A batch of fewer rows is written in the worker's thread: a handover to the writer
# thread (tasks/background.py) costs more than such a write.
WRITE_BEHIND_ROWS = 100
VALID_ID = re.compile(r"[A-Za-z0-9_-]{1,511}")  # fullmatch: `$` would accept a final newline


def document_id(doc: dict[str, Any], primary_key: str) -> str:
    """The document's id as a string, or the error Meilisearch gives for it."""
    if primary_key not in doc:
        raise SiftError(
            f"Document doesn't have a `{primary_key}` attribute: `{shown(doc)}`.",
            "missing_document_id",
        )
    value = doc[primary_key]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and VALID_ID.fullmatch(value) and len(value.encode()) <= 511:
        return value
    raise SiftError(
        f"Document identifier `{shown(value)}` is invalid. A document identifier can be of type "
        "integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) "
        "and underscores (_), and can not be more than 511 bytes.",
        "invalid_document_id",
    )


# Many ids checked in one match: valid ids joined by newlines (no id has one).
VALID_IDS = re.compile(r"[A-Za-z0-9_-]{1,511}(?:\n[A-Za-z0-9_-]{1,511})*")


def document_ids(docs: list[dict[str, Any]], primary_key: str) -> list[str]:
    """Each document's id (:func:`document_id`), a chunk's at once when every id is a
    valid string or every one an integer; else document by document, which raises the
    first document's error."""
    try:
        values = list(map(operator.itemgetter(primary_key), docs))
    except KeyError:
        values = None
    if values:
        kinds = set(map(type, values))
        if kinds == {str}:
            joined = "\n".join(values)
            if joined.count("\n") == len(values) - 1 and VALID_IDS.fullmatch(joined):
                return values
        if kinds == {int}:
            return list(map(str, values))
    return [document_id(doc, primary_key) for doc in docs]


def pend(pending: dict[str, dict[str, Any]], doc_id: str, doc: dict[str, Any],
         merge: bool) -> None:
    """Add ``doc`` to a batch's pending documents by id: an update (``merge``) folds a
    repeated id into the earlier version, a replacement takes the later one."""
    if merge and doc_id in pending:
        pending[doc_id].update(doc)
    else:
        pending[doc_id] = doc


def infer_primary_key(doc: dict[str, Any]) -> str:
    candidates = [key for key in doc if key.lower().endswith("id")]
    if not candidates:
        raise SiftError(
            "The primary key inference failed as the engine did not find any field ending with "
            "`id` in its name. Please specify the primary key manually using the `primaryKey` "
            "query parameter.",
            "index_primary_key_no_candidate_found",
        )
    if len(candidates) > 1:
        names = " and ".join(f"'{c}'" for c in candidates)
        raise SiftError(
            f"The primary key inference failed as the engine found {len(candidates)} fields "
            f"ending with `id` in their names: {names}. Please specify the primary key manually "
            "using the `primaryKey` query parameter.",
            "index_primary_key_multiple_candidates_found",
        )
    return candidates[0]


def _payload_docs(conn: Connection, task: TaskRecord) -> Iterator[list[dict[str, Any]]]:
    for chunk in task_rows.iter_payload(conn, task.uid):
        yield parse_chunk(chunk)


@dataclass
class IndexState:
    """What a document batch needs to know and may change about its index."""

    id: int
    uid: str
    primary_key: str | None
    search: SearchIndex


def resolve_primary_key(state: IndexState, task: TaskRecord, conn: Connection) -> str | None:
    """The primary key this task uses; fixes it on the index when it is not set yet."""
    wanted = task.params.get("primaryKey")
    if state.primary_key is not None:
        if wanted is not None and wanted != state.primary_key:
            raise SiftError(
                f"Index `{state.uid}`: Index already has a primary key: `{state.primary_key}`.",
                "index_primary_key_already_exists",
            )
        return state.primary_key
    if wanted is not None:
        return str(wanted)
    for docs in _payload_docs(conn, task):
        if docs:
            return infer_primary_key(docs[0])
    return None


# Documents parsed by the validation pass are kept for the second while the chunks they
# came from add up to this much: past it, a chunk's documents are parsed again when it is
# applied. The index keeps documents as JSON (sift.engine.doctable), so a large payload
# held parsed whole was most of an import's peak memory (200k products: ~110 MiB of
# dicts), while parsing a chunk again costs ~1 µs a document. One chunk (CHUNK_BYTES):
# 8 MiB of small documents (200k products: ~110k of them) parsed ahead set the Python
# heap's high-water mark of the whole import, which the index's objects then filled;
# once the index kept no object per term (sift.engine.terms), that mark was ~12 MiB of
# the import's peak (docs/benchmarks/memory.md, "A term table").
PARSED_AHEAD_BYTES = 1 << 20


@dataclass
class Chunk:
    """A payload chunk read by the validation pass, for the second: its documents' ids,
    the chunk as stored (its lines are cut again when it is applied: holding every line
    of a large payload at once raised an import's peak memory) and its documents, when
    kept parsed (see PARSED_AHEAD_BYTES).

    The ids are kept as one bytes object, newline-separated (no valid id holds a newline,
    and all are ASCII), and made strings only when the chunk is applied: a string object
    per id for the whole payload at once (200k products: ~14 MiB of 64-byte blocks) set
    the Python heap's high-water mark of an import, whose arenas then stayed half-empty
    (docs/benchmarks/memory.md, "An import's ids and new terms' strings")."""

    id_lines: bytes
    docs: list[dict[str, Any]] | None
    stored: bytes

    def ids(self) -> list[str]:
        return self.id_lines.decode("ascii").split("\n") if self.id_lines else []

    def documents(self) -> list[dict[str, Any]]:
        return self.docs if self.docs is not None else parse_chunk(self.stored)


@lru_cache(maxsize=64)
def _leading_ids(primary_key: str) -> re.Pattern[bytes]:
    """Matches a stored line that opens with the primary key's member, as orjson writes
    it (no spaces, the key escaped as orjson escapes it), whose value is a valid id: a
    string of VALID_ID's characters (none of them escaped in JSON, so the bytes are the
    value) or an integer (digits then `,` or `}`: no fraction, no exponent). Group 1: the
    string, group 2: the integer as orjson writes it, which is `str` of the value."""
    # A line's start is matched as the newline before it (the chunk is scanned with one
    # prepended): a pattern opening with a literal is searched for much faster than `^`.
    key = re.escape(b"\n{" + orjson.dumps(primary_key) + b":")
    return re.compile(key + rb'(?:"([A-Za-z0-9_-]{1,511})"|(-?[0-9]+)(?=[,}]))')


def scanned_id_lines(chunk: bytes, primary_key: str) -> bytes | None:
    """A stored chunk's document ids read from its lines' bytes, without parsing them,
    newline-separated, when every line opens with a valid id (:func:`document_id` accepts
    exactly these); None otherwise (the chunk is parsed and checked document by
    document)."""
    found = _leading_ids(primary_key).findall(b"\n" + chunk)
    # Every line matched: a stored line is never empty and holds no raw newline (orjson
    # escapes it), so each line matches once at most.
    if len(found) != chunk.count(b"\n") + 1:
        return None
    return b"\n".join([text or number for text, number in found])


def validate(conn: Connection, task: TaskRecord, primary_key: str) -> list[Chunk]:
    """First pass: every document has a valid id. Returns the payload, chunk by chunk.
    A chunk whose lines each open with a valid id is checked from its bytes and parsed
    only when applied; another is parsed here, and kept parsed while the budget allows
    (parsing every chunk twice was a twentieth of an import)."""
    chunks = []
    kept = 0
    for chunk in task_rows.iter_payload(conn, task.uid):
        if (scanned := scanned_id_lines(chunk, primary_key)) is not None:
            chunks.append(Chunk(scanned, None, chunk))
            continue
        docs = parse_chunk(chunk)
        ids = "\n".join(document_ids(docs, primary_key)).encode("ascii")
        kept += len(chunk)
        chunks.append(Chunk(ids, docs if kept <= PARSED_AHEAD_BYTES else None, chunk))
    return chunks


class SqlRows:
    """Where :func:`apply_additions` reads stored documents and writes the new rows: the
    batch's write transaction itself, each large write on a helper thread while the
    next rows are indexed (tasks/background.py). tasks/staged.py holds them instead."""

    def __init__(self, db: Database, conn: Connection, index_id: int) -> None:
        self.db, self.conn, self.index_id = db, conn, index_id
        self.writes = WriteBehind()

    def __enter__(self) -> SqlRows:
        self.writes.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.writes.__exit__(*exc)  # waits for the last write

    def existing(self, ids: list[str]) -> dict[str, bytes]:
        self.writes.wait()  # the previous write holds the connection
        return doc_rows.get_many(self.conn, self.index_id, ids)

    def write(self, rows: list[tuple[str, bytes]]) -> None:
        if len(rows) < WRITE_BEHIND_ROWS:
            self.writes.wait()
            doc_rows.upsert(self.db, self.conn, self.index_id, rows)
        else:
            self.writes.submit(partial(doc_rows.upsert, self.db, self.conn, self.index_id, rows))

    def embedding_conn(self) -> Connection | None:
        self.writes.wait()  # embedding reads and writes on the connection
        return self.conn


class RowSink(Protocol):
    """What :func:`apply_additions` needs of the rows' store (:class:`SqlRows`)."""

    def __enter__(self) -> RowSink: ...
    def __exit__(self, *exc: object) -> None: ...
    def existing(self, ids: list[str]) -> dict[str, bytes]: ...
    def write(self, rows: list[tuple[str, bytes]]) -> None: ...
    def embedding_conn(self) -> Connection | None: ...


def apply_additions(
    db: Database,
    conn: Connection,
    state: IndexState,
    task: TaskRecord,
    primary_key: str,
    batch_size: int,
    payload: list[Chunk],
    sink: RowSink | None = None,
) -> int:
    """Second pass over ``payload`` (:func:`validate`'s, emptied as it goes): write
    documents to ``sink`` (the transaction ``conn``: :class:`SqlRows`) and the search
    index; returns documents indexed."""
    rows_to = sink if sink is not None else SqlRows(db, conn, state.id)
    merge = task.params.get("method") == "update"
    # skipCreation: only documents already stored are replaced or updated; new ids are
    # left out (and not counted as indexed).
    skip_new = bool(task.params.get("skipCreation"))
    pending: dict[str, dict[str, Any]] = {}
    # A replacement stores each document's payload line: orjson wrote it when the payload
    # was accepted (tasks/payload.py), the bytes orjson.dumps gives the parsed document
    # again, without a second encoding (a twentieth of an import).
    lines: dict[str, bytes] = {}
    indexed = 0

    def flush() -> None:
        nonlocal indexed
        if not pending:
            return
        ids = list(pending)
        if merge or skip_new:
            existing = rows_to.existing(ids)
            if skip_new:
                for doc_id in ids:
                    if doc_id not in existing:
                        del pending[doc_id]
            for doc_id, body in existing.items() if merge else ():
                merged = orjson.loads(body)
                merged.update(pending[doc_id])
                pending[doc_id] = merged
            if not pending:
                return
        rows = ([(i, orjson.dumps(d)) for i, d in pending.items()] if merge
                else [(i, lines[i]) for i in pending])
        rows_to.write(rows)
        embeds = semantic.configured(state.search)
        embed_conn = rows_to.embedding_conn() if embeds else None
        semantic.on_upsert(db, embed_conn, state.id, state.search, pending)  # strips `_vectors`
        # A replaced document's line is its JSON as the index keeps it too (not once
        # `_vectors` were stripped from the document, nor for a merged one).
        encoded = None if merge or embeds else [line for _, line in rows]
        state.search.upsert(list(pending.items()), encoded)
        indexed += len(pending)
        progress.current().advance(len(pending))
        pending.clear()
        lines.clear()

    payload.reverse()
    # Each batch's rows are written on a helper thread while the batch is indexed here
    # (tasks/background.py); leaving the block waits for the last write.
    with rows_to:
        while payload:  # a chunk is dropped once its documents are pending
            chunk = payload.pop()
            ids, stored = chunk.ids(), chunk_lines(chunk.stored)
            # A replacement parses a chunk's lines a batch's part at a time, unless the
            # validation pass kept them parsed: a whole chunk's documents (~12k small
            # products in 1 MiB) parsed at once, beside the batch still pending from the
            # chunk before, set the Python heap's high-water mark of an import.
            docs = chunk.documents() if merge else chunk.docs
            if len(ids) != len(stored) or (docs is not None and len(docs) != len(ids)):
                raise ValueError("a payload chunk's ids, documents and lines disagree")
            if merge:
                for doc_id, doc, line in zip(ids, docs or (), stored, strict=True):
                    pend(pending, doc_id, doc, merge)
                    lines[doc_id] = line
                    if len(pending) >= batch_size:
                        flush()
            else:
                # A replacement takes the later document of a repeated id (pend): the
                # chunk's documents are added up to the batch's size at a time.
                done = 0
                while done < len(ids):
                    part = slice(done, done + max(batch_size - len(pending), 1))
                    parsed = docs[part] if docs is not None \
                        else list(map(orjson.loads, stored[part]))
                    pending.update(zip(ids[part], parsed, strict=True))
                    lines.update(zip(ids[part], stored[part], strict=True))
                    del parsed
                    done = part.stop
                    if len(pending) >= batch_size:
                        flush()
            # The chunk's documents already indexed are freed now, not once the next
            # chunk is parsed (both chunks' documents at once raised the import's peak).
            del chunk, ids, docs, stored
        flush()
    return indexed


def apply_deletion(
    conn: Connection, state: IndexState, task: TaskRecord, everything: SearchIndex | None = None
) -> dict[str, Any]:
    """Delete by ids, by filter, or everything; returns the task's final details.
    ``everything`` filters over every document when ``state.search`` holds only some
    shards (catalog.filter_view)."""
    details = dict(task.details or {})
    ids = delete_from_index(state, task, everything)
    details["deletedDocuments"] = delete_rows(conn, state.id, ids)
    return details


def delete_from_index(
    state: IndexState, task: TaskRecord, everything: SearchIndex | None = None
) -> list[str] | None:
    """A deletion's search-index half: the ids it deletes (None: every document). A
    filter is evaluated on the unpublished index, so it sees the batch's earlier tasks."""
    params = task.params
    ids: list[str] | None = None
    if params.get("all"):
        state.search.clear()
    else:
        if "filter" in params:
            ids = (everything or state.search).filter_ids(params["filter"], unpublished=True)
        else:
            ids = [str(i) for i in params.get("ids", [])]
        state.search.delete(ids)
    semantic.on_delete(state.search, ids)
    return ids


def delete_rows(conn: Connection, index_id: int, ids: list[str] | None) -> int:
    """A deletion's SQL half: the rows deleted (``ids`` None: every row of the index)."""
    if ids is None:
        return doc_rows.clear(conn, index_id)
    return doc_rows.delete_ids(conn, index_id, ids)


def write_payload_rows(
    db: Database, conn: Connection, index_id: int, task: TaskRecord, id_lines: list[bytes]
) -> None:
    """A validated replacement's rows, which are its payload's lines (orjson wrote them
    when the payload was accepted), written chunk by chunk: tasks/staged.py indexes the
    documents before the write transaction and holds no row meanwhile, only each chunk's
    ids as :func:`validate` found them (:attr:`Chunk.id_lines`: 200k products' ids are
    ~1.4 MiB, and reading them again from the lines was a tenth of this write)."""
    chunks = task_rows.iter_payload(conn, task.uid)
    for chunk, ids_of in zip(chunks, id_lines, strict=True):
        ids = ids_of.decode("ascii").split("\n") if ids_of else []
        lines = chunk_lines(chunk)
        if len(ids) != len(lines):
            raise ValueError("a payload chunk's ids and lines disagree")
        doc_rows.upsert(db, conn, index_id, list(zip(ids, lines, strict=True)))
