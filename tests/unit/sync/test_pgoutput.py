"""pgoutput messages built by hand from the protocol's documented layout."""

from __future__ import annotations

import struct

from sift.sync.pgoutput import (
    PG_EPOCH,
    Begin,
    Change,
    CommitMessage,
    Decoder,
    RelationMessage,
    TruncateMessage,
)


def _string(text: str) -> bytes:
    return text.encode() + b"\0"


def _relation(oid: int, columns: list[str]) -> bytes:
    body = b"R" + struct.pack("!I", oid) + _string("public") + _string("items")
    body += struct.pack("!bh", ord("d"), len(columns))
    for i, name in enumerate(columns):
        body += struct.pack("!b", 1 if i == 0 else 0) + _string(name) + struct.pack("!Ii", 23, -1)
    return body


def _tuple(values: list[str | bytes | None]) -> bytes:
    body = struct.pack("!h", len(values))
    for value in values:
        if value is None:
            body += b"n"
        elif value == b"u":
            body += b"u"
        else:
            data = str(value).encode()
            body += b"t" + struct.pack("!i", len(data)) + data
    return body


def test_a_transaction_decodes_to_changes() -> None:
    decoder = Decoder()
    assert decoder.decode(b"B" + struct.pack("!qqi", 100, 0, 7)) == Begin(100)
    relation = decoder.decode(_relation(16384, ["id", "body", "big"]))
    assert isinstance(relation, RelationMessage)
    assert relation.relation.key == "public.items"
    insert = decoder.decode(b"I" + struct.pack("!I", 16384) + b"N" + _tuple(["1", "héllo", None]))
    assert isinstance(insert, Change)
    assert (insert.op, insert.row) == ("insert", {"id": "1", "body": "héllo", "big": None})
    update = decoder.decode(b"U" + struct.pack("!I", 16384) + b"K" + _tuple(["1", None, None])
                            + b"N" + _tuple(["2", "x", b"u"]))  # fmt: skip
    assert isinstance(update, Change)
    assert update.old == {"id": "1", "body": None, "big": None}
    assert update.row == {"id": "2", "body": "x"}  # the unchanged TOAST value is left out
    delete = decoder.decode(b"D" + struct.pack("!I", 16384) + b"K" + _tuple(["2", None, None]))
    assert isinstance(delete, Change) and delete.op == "delete"
    truncate = decoder.decode(b"T" + struct.pack("!ib", 1, 0) + struct.pack("!I", 16384))
    assert isinstance(truncate, TruncateMessage) and truncate.relations[0].name == "items"
    commit = decoder.decode(b"C" + struct.pack("!bqqq", 0, 100, 180, 2_000_000))
    assert commit == CommitMessage(180, PG_EPOCH + 2.0)
    assert decoder.decode(b"Y" + b"ignored") is None
