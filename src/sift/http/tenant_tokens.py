"""Tenant tokens: JWTs signed with an API key whose search rules become filters.

A token carries `apiKeyUid`, `searchRules` (a list of index patterns, or an object
from index pattern to `{filter}` or null) and optionally `exp`. It is valid when it
is signed (HS256/384/512) with the value of that API key, the key may search, and
neither the token nor the key has expired.
"""

from __future__ import annotations

import time
from typing import Any

import jwt

from sift.errors import SiftError
from sift.keys import Principal, action_allowed, derive_key, index_allowed
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
        claims = jwt.decode(
            token,
            value,
            algorithms=ALGORITHMS,
            options={"require": ["searchRules"], "verify_exp": True},
        )
    except jwt.ExpiredSignatureError:
        # Signed by the key but past `exp`: say so, as Meilisearch does.
        exp = claims.get("exp")
        raise SiftError(
            f"Tenant token expired. Was valid up to `{exp}` and we're now `{int(time.time())}`.",
            "invalid_api_key",
        ) from None
    except jwt.PyJWTError:
        return None
    rules = claims["searchRules"]
    if isinstance(rules, list):
        rules = dict.fromkeys(rules)
    if not isinstance(rules, dict):
        return None
    return Principal(key=record, search_rules=rules)


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
