"""Decoding of PostgreSQL's built-in `pgoutput` logical replication messages (protocol 1).

pgoutput ships with every PostgreSQL since 10 and is the plugin managed services allow;
no maintained Python package decodes it, and its format is small and documented
("Logical Replication Message Formats" in the PostgreSQL manual): Begin, Commit,
Relation (a table's columns, sent before its first change and after each ALTER),
Insert/Update/Delete with tuples of text values, and Truncate. Values stay text here;
sift.sync.convert turns them into JSON values by the column's kind.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

PG_EPOCH = 946_684_800  # 2000-01-01 in Unix seconds: pgoutput's timestamps count from it


@dataclass
class Relation:
    schema: str
    name: str
    columns: list[str]

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class Begin:
    final_lsn: int


@dataclass
class CommitMessage:
    end_lsn: int
    at: float  # Unix seconds


@dataclass
class Change:
    relation: Relation
    op: str  # "insert", "update", "delete"
    row: dict[str, Any]  # column -> text or None; unchanged TOASTed columns are left out
    old: dict[str, Any] | None = None  # the old key (or row) of an update that changed it


@dataclass
class TruncateMessage:
    relations: list[Relation]


@dataclass
class RelationMessage:
    relation: Relation


Message = Begin | CommitMessage | Change | TruncateMessage | RelationMessage


class Decoder:
    """Stateful: Relation messages teach it the columns later changes refer to by oid."""

    def __init__(self) -> None:
        self.relations: dict[int, Relation] = {}

    def decode(self, data: bytes) -> Message | None:
        kind = data[:1]
        reader = _Reader(data, 1)
        if kind == b"B":
            final_lsn, _, _ = reader.unpack("!qqi")
            return Begin(final_lsn)
        if kind == b"C":
            _, _, end_lsn, at = reader.unpack("!bqqq")
            return CommitMessage(end_lsn, at / 1e6 + PG_EPOCH)
        if kind == b"R":
            (oid,) = reader.unpack("!I")
            schema, name = reader.string() or "pg_catalog", reader.string()
            _, ncols = reader.unpack("!bh")
            columns = []
            for _ in range(ncols):
                reader.unpack("!b")
                columns.append(reader.string())
                reader.unpack("!Ii")
            relation = self.relations[oid] = Relation(schema, name, columns)
            return RelationMessage(relation)
        if kind in (b"I", b"U", b"D"):
            (oid,) = reader.unpack("!I")
            relation = self.relations[oid]
            old = None
            marker = reader.byte()
            if kind == b"U" and marker in (b"K", b"O"):
                old = reader.tuple(relation)
                marker = reader.byte()
            row = reader.tuple(relation)
            op = {b"I": "insert", b"U": "update", b"D": "delete"}[kind]
            return Change(relation, op, row, old)
        if kind == b"T":
            count, _ = reader.unpack("!ib")
            oids = reader.unpack(f"!{count}I")
            return TruncateMessage([self.relations[o] for o in oids if o in self.relations])
        return None  # Origin, Type, Message: nothing for Sift


class _Reader:
    def __init__(self, data: bytes, offset: int) -> None:
        self.data = data
        self.offset = offset

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from(fmt, self.data, self.offset)
        self.offset += struct.calcsize(fmt)
        return values

    def byte(self) -> bytes:
        value = self.data[self.offset : self.offset + 1]
        self.offset += 1
        return value

    def string(self) -> str:
        end = self.data.index(b"\0", self.offset)
        value = self.data[self.offset : end].decode()
        self.offset = end + 1
        return value

    def tuple(self, relation: Relation) -> dict[str, Any]:
        (count,) = self.unpack("!h")
        row: dict[str, Any] = {}
        for column in relation.columns[:count]:
            kind = self.byte()
            if kind == b"n":
                row[column] = None
            elif kind == b"t":
                (length,) = self.unpack("!i")
                row[column] = self.data[self.offset : self.offset + length].decode()
                self.offset += length
            elif kind == b"u":
                continue  # a TOASTed value the update did not change: merged, not replaced
            else:
                raise ValueError(f"unexpected pgoutput tuple value kind {kind!r}")
        return row
