"""Click and conversion events (`POST /events`, Meilisearch's wire format), the query uids
that link them to searches, and how visitors' user ids are kept.

User ids are stored keyed-hashed by default (HMAC-SHA256 with a secret kept in the
database, so every node hashes alike and equal visitors still group together, while the
stored value cannot be turned back into the id by hashing guesses without the secret).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sift.errors import SiftError
from sift.inputs import INDEX_UID, INDEX_UID_RULE, kind_of, shown
from sift.storage.analytics import InsightEvent

EVENT_TYPES = ("click", "conversion")
FIELDS = (
    "eventType",
    "eventName",
    "indexUid",
    "userId",
    "queryUid",
    "objectId",
    "objectName",
    "position",
)
KNOWN = frozenset(FIELDS)
CODES = {  # each field's error code (docs/api.md#events)
    "eventType": "invalid_event_type",
    "eventName": "invalid_event_name",
    "indexUid": "invalid_event_index_uid",
    "userId": "invalid_event_user_id",
    "queryUid": "invalid_event_query_uid",
    "objectId": "invalid_event_object_id",
    "objectName": "invalid_event_object_name",
    "position": "invalid_event_position",
}
MAX_TEXT = 256  # event and object names: labels, not documents
MAX_USER_ID = 128
MAX_OBJECT_ID = 512  # Meilisearch's document id limit
MAX_POSITION = 2**31 - 1


def new_query_uid(now_ms: int | None = None) -> str:
    """A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so
    query uids sort by time as Meilisearch's do."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms & (2**48 - 1)) << 80 | int.from_bytes(os.urandom(10), "big") & (2**80 - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 9562 variant
    return str(uuid.UUID(int=value))


class UserIds:
    """How a visitor's id is stored: keyed-hashed (the default) or as sent."""

    def __init__(self, secret: bytes, raw: bool = False) -> None:
        # HMAC-SHA256 keyed once: each id's hash starts from a copy of it (the `copy()` that
        # hmac's documentation offers for digests sharing a prefix), not from the secret,
        # whose set-up in OpenSSL was ~1.1 of the ~4 µs a visitor's hash took. The writer
        # hashes each visitor of a batch, ~1,000 a second per worker at 2,000 click
        # events a second (docs/benchmarks/events.md).
        self._keyed = hmac.new(secret, digestmod=hashlib.sha256)
        self.raw = raw

    def stored(self, user_id: str | None) -> str | None:
        if user_id is None:
            return None
        if self.raw:
            return user_id[:MAX_USER_ID]
        hashed = self._keyed.copy()
        hashed.update(user_id.encode())
        return hashed.hexdigest()


def _text(body: Mapping[str, Any], name: str, limit: int, required: bool) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise SiftError(f"Missing field `{name}`", CODES[name])
        return None
    if not isinstance(value, str):
        raise SiftError(
            f"Invalid value type at `.{name}`: expected a string, but found "
            f"{kind_of(value)}: `{shown(value)}`",
            CODES[name],
        )
    if required and not value.strip():
        raise SiftError(f"Invalid value at `.{name}`: it must not be empty", CODES[name])
    if len(value) > limit:
        raise SiftError(
            f"Invalid value at `.{name}`: longer than {limit} characters",
            CODES[name],
        )
    return value


def parse_event(body: Mapping[str, Any], header_user: str | None, now: datetime) -> InsightEvent:
    """The event, validated; `header_user` is `X-MS-USER-ID`, used when the body names no
    `userId`. The user id is still raw: it is hashed when the event is written."""
    event = _usual_event(body, header_user, now)
    return event if event is not None else _checked_event(body, header_user, now)


def _usual_event(
    body: Mapping[str, Any], header_user: str | None, now: datetime
) -> InsightEvent | None:
    """The event when every field is plainly valid, as :func:`_checked_event` makes it;
    None for anything else, which that function answers (with its error, in its order).

    On the event loop for every `POST /events` (issue #17): the same checks as the
    careful path, inline, without a call per field. It may refuse more than that path
    (a subclass of str or int) but never accepts what it would not; a test holds them
    together on a grid of valid and invalid fields."""
    get = body.get
    event_type, event_name, index_uid = get("eventType"), get("eventName"), get("indexUid")
    if not (
        KNOWN.issuperset(body)
        and (event_type == "click" or event_type == "conversion")
        and type(event_name) is str
        and len(event_name) <= MAX_TEXT
        and event_name.strip()
        and type(index_uid) is str
        and INDEX_UID.fullmatch(index_uid)
    ):
        return None
    user_id = get("userId")
    if user_id is None:
        user_id = header_user
    elif type(user_id) is not str:
        return None
    if user_id is None or len(user_id) > MAX_USER_ID or not user_id.strip():
        return None
    query_uid, object_id = get("queryUid"), get("objectId")
    if query_uid is not None:
        if type(query_uid) is not str or len(query_uid) > 36:
            return None
        try:
            query_uid = str(uuid.UUID(query_uid))
        except ValueError:
            return None
    if object_id is not None:
        if type(object_id) is int:
            object_id = str(object_id)  # a numeric primary key, as hits show it
        elif type(object_id) is not str:
            return None
        if len(object_id) > MAX_OBJECT_ID:
            return None
    object_name, position = get("objectName"), get("position")
    if object_name is not None and (type(object_name) is not str or len(object_name) > MAX_TEXT):
        return None
    if position is not None and not (type(position) is int and 0 <= position <= MAX_POSITION):
        return None
    return InsightEvent(
        now, event_type, event_name, index_uid, user_id, query_uid, object_id, object_name, position
    )


def _checked_event(
    body: Mapping[str, Any], header_user: str | None, now: datetime
) -> InsightEvent:
    """The event, or the error for its first invalid field, in Meilisearch's order."""
    if not KNOWN.issuperset(body):  # one C call for the usual body; the first unknown named
        for key in body:
            if key not in KNOWN:
                listed = ", ".join(f"`{f}`" for f in FIELDS)
                raise SiftError(
                    f"Unknown field `{shown(key)}`: expected one of {listed}", "bad_request"
                )
    event_type = _text(body, "eventType", MAX_TEXT, required=True)
    if event_type not in EVENT_TYPES:
        raise SiftError(
            f"Invalid value at `.eventType`: `{shown(event_type)}` is not one of `click`, "
            "`conversion`",
            CODES["eventType"],
        )
    event_name = _text(body, "eventName", MAX_TEXT, required=True)
    index_uid = body.get("indexUid")
    if index_uid is None:
        raise SiftError("Missing field `indexUid`", CODES["indexUid"])
    if not isinstance(index_uid, str) or not INDEX_UID.fullmatch(index_uid):
        raise SiftError(
            f"`{shown(index_uid)}` is not a valid index uid. {INDEX_UID_RULE}",
            CODES["indexUid"],
        )
    user_id = _text(body, "userId", MAX_USER_ID, required=False)
    if user_id is None and header_user is not None and header_user.strip():
        if len(header_user) > MAX_USER_ID:
            raise SiftError(
                f"The `X-MS-USER-ID` header is longer than {MAX_USER_ID} characters",
                CODES["userId"],
            )
        user_id = header_user
    if user_id is None or not user_id.strip():
        raise SiftError(
            "Missing field `userId`: give it in the body or in the `X-MS-USER-ID` header",
            CODES["userId"],
        )
    query_uid = _text(body, "queryUid", 36, required=False)
    if query_uid is not None:
        try:
            query_uid = str(uuid.UUID(query_uid))
        except ValueError:
            raise SiftError(
                f"Invalid value at `.queryUid`: `{shown(query_uid)}` is not a valid UUID",
                CODES["queryUid"],
            ) from None
    object_id = body.get("objectId")
    if isinstance(object_id, int) and not isinstance(object_id, bool):
        object_id = str(object_id)  # a numeric primary key, as hits show it
    object_id = _text({"objectId": object_id}, "objectId", MAX_OBJECT_ID, required=False)
    object_name = _text(body, "objectName", MAX_TEXT, required=False)
    position = body.get("position")
    if position is not None and (
        not isinstance(position, int)
        or isinstance(position, bool)
        or not 0 <= position <= MAX_POSITION
    ):
        raise SiftError(
            f"Invalid value at `.position`: expected a positive integer, but found "
            f"{kind_of(position)}: `{shown(position)}`",
            CODES["position"],
        )
    assert event_name is not None
    return InsightEvent(
        now, event_type, event_name, index_uid, user_id, query_uid, object_id, object_name, position
    )
