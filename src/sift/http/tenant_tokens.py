"""Tenant tokens: JWTs signed with an API key whose search rules become filters.

A token carries `apiKeyUid`, `searchRules` (a list of index patterns, or an object
from index pattern to `{filter}` or null) and optionally `exp`. It is valid when it
is signed (HS256/384/512) with the value of that API key, the key may search, and
neither the token nor the key has expired.

Null claims read as Meilisearch reads them: `exp: null` is "no expiry" (the official
Python client signs exactly that when no expiry is given), a null rule or `filter` is
"no filter", and a null `apiKeyUid` or `searchRules` makes the token invalid. `nbf`
is honoured when it is a number and, like `iat`, ignored when null.
"""

from __future__ import annotations

import time
from typing import Any

import jwt

from sift.errors import SiftError
from sift.ops.keys import Principal, action_allowed, derive_key, index_allowed
from sift.services import Services

ALGORITHMS = ["HS256", "HS384", "HS512"]


def principal_from_token(
    svc: Services, token: str, cached_only: bool = False
) -> Principal | None:
    """The principal a tenant token stands for, or None when it is not valid.

    ``cached_only``: decide from keys verified in the last second only, without I/O
    (None then also means "not known yet": ask again without it)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    uid = claims.get("apiKeyUid")
    if not isinstance(uid, str) or svc.keys.master_key is None:
        return None
    value = derive_key(svc.keys.master_key, uid)
    # lookup() also checks that the key exists and has not expired.
    record = svc.keys.cached(value) if cached_only else svc.keys.lookup(value)
    if record is None or not action_allowed(record.actions, "search"):
        return None
    try:
        # PyJWT refuses a null time claim outright, so times are checked below instead.
        claims = jwt.decode(
            token,
            value,
            algorithms=ALGORITHMS,
            options={
                "require": ["searchRules"],
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError:
        return None
    now = int(time.time())
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not (_is_time(exp) and _is_time(nbf)) or (nbf is not None and nbf > now):
        return None
    if exp is not None and exp <= now:
        # Signed by the key but past `exp`: say so, as Meilisearch does.
        raise SiftError(
            f"Tenant token expired. Was valid up to `{exp}` and we're now `{now}`.",
            "invalid_api_key",
        )
    rules = claims["searchRules"]
    if isinstance(rules, list):
        rules = dict.fromkeys(rules)
    if not isinstance(rules, dict):
        return None
    return Principal(key=record, search_rules=rules)


def _is_time(value: object) -> bool:
    """A time claim is absent, null or a number of seconds (JSON `true` is not)."""
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def token_filter(principal: Principal, index_uid: str) -> tuple[bool, Any]:
    """Whether the token lets this index be searched, and the filter it imposes."""
    rules = principal.search_rules
    if rules is None:
        return True, None
    best: str | None = None
    for pattern in rules:
        if index_allowed([pattern], index_uid) and (best is None or len(pattern) > len(best)):
            best = pattern  # the most specific pattern wins
    if best is None:
        return False, None
    rule = rules[best]
    if isinstance(rule, dict):
        return True, rule.get("filter")
    return True, None
