"""Hostile requests in Meilisearch's shapes: the right routes and field names, with values
chosen to break parsers (deep nesting, integers past every type, Unicode digits, wrong
types, NUL, overlong strings, broken JSON). Seeded: the same seed sends the same requests."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson

from sift.http.routes.settings import SETTING_NAMES

INDEXES = ("books", "movies")


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, bytes] = field(default_factory=dict)  # raw bytes, not always UTF-8


class Raw(bytes):
    """Bytes spliced into a JSON text as they are (numbers no JSON library writes)."""


def _deep(rng: random.Random) -> Raw:
    depth = rng.choice([127, 128, 129, 300, 1_000, 20_000, 100_000])
    opener = rng.choice([b"[", b'{"a":'])
    closer = b"]" if opener == b"[" else b"}"
    return Raw(opener * depth + b"1" + closer * depth)


SCALARS: list[Callable[[random.Random], Any]] = [
    lambda r: r.choice(
        [1 << 31, 1 << 32, 1 << 63, (1 << 64) - 1, 1 << 64, 1 << 70, -(1 << 63) - 1]
    ),
    lambda r: Raw(
        r.choice([b"1e400", b"-1e400", b"1" + b"0" * 400, b"-0", b"0.0000001", b"1E-400"])
    ),
    lambda r: r.choice(["³", "\u0663", "\uff11", "٣٣", "1e3", "+1", "-1", " 1", "0x10", "1_0"]),
    lambda r: r.choice(["\x00", "a\x00b", "\x00" * 100, "\ud7ff", "\ufeff", "\u202e"]),
    # Escaped lone surrogates (orjson writes none: spliced in), and words that fold to
    # nothing or to more letters: marks alone, ß, İ, a ligature of 18 letters.
    lambda r: Raw(r.choice([b'"\\ud800"', b'"a\\udfff\\u01c5"', b'"\\ud800\\u0041 b"',
                            b'"\\\\ud800 \\ud834\\udd1e"'])),
    lambda r: r.choice(["\u0301", "\u0301\u0301 a\u0301", "\u00df", "\u0130stanbul",
                        "\ufdfa", "x\u200dy", "\U0001d11e" * 70]),
    lambda r: r.choice(["x" * 10_000, "é" * 50_000, "a " * 100_000, "x" * 1_000_000]),
    lambda r: r.choice([None, True, False, [], {}, [None], {"": None}, "", 0, -1, 0.5]),
    lambda r: r.choice(["*", "title", "title:³", "title:99999999999999999999", "_geo", "id"]),
    lambda r: r.choice(
        [
            "(" * 500,
            "NOT " * 500 + "a = 1",
            "a = 1 AND " * 2000 + "a = 1",
            "a IN [" * 300,
            "_geoRadius(1e400, 0, 1)",
            "_geoBoundingBox([1,2],[3])",
            "a TO",
            "a = 'x",
            "a EXISTS",
            "title CONTAINS \x00",
            "id = 9223372036854775808",
            "n > 1e400",
            "a.b.c.d = 1",
        ]
    ),
    _deep,
]


def scalar(rng: random.Random) -> Any:
    return rng.choice(SCALARS)(rng)


def value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 2 or roll < 0.6:
        return scalar(rng)
    if roll < 0.8:
        return [value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["a", "", "id", "\x00", "_vectors"]): value(rng, depth + 1)}


def dumps(obj: Any) -> bytes:
    """JSON with `Raw` pieces spliced in as they are."""
    pieces: list[bytes] = []

    def placeholder(item: Any) -> Any:
        if isinstance(item, Raw):
            pieces.append(bytes(item))
            return f"\x01raw{len(pieces) - 1}\x01"
        if (
            isinstance(item, int)
            and not isinstance(item, bool)
            and not -(1 << 63) <= item < 1 << 64
        ):
            pieces.append(str(item).encode())
            return f"\x01raw{len(pieces) - 1}\x01"
        if isinstance(item, list):
            return [placeholder(i) for i in item]
        if isinstance(item, dict):
            return {k: placeholder(v) for k, v in item.items()}
        return item

    text = orjson.dumps(placeholder(obj))
    for position, piece in enumerate(pieces):
        text = text.replace(f'"\\u0001raw{position}\\u0001"'.encode(), piece)
    return text


SEARCH_FIELDS = [
    "q",
    "offset",
    "limit",
    "page",
    "hitsPerPage",
    "filter",
    "facets",
    "sort",
    "distinct",
    "attributesToRetrieve",
    "attributesToHighlight",
    "attributesToCrop",
    "cropLength",
    "cropMarker",
    "highlightPreTag",
    "showMatchesPosition",
    "showRankingScore",
    "matchingStrategy",
    "attributesToSearchOn",
    "rankingScoreThreshold",
    "hybrid",
    "vector",
    "retrieveVectors",
    "locales",
    "showPerformanceDetails",
]
SETTINGS = list(SETTING_NAMES)
TASK_PARAMS = [
    "uids",
    "batchUids",
    "canceledBy",
    "types",
    "statuses",
    "indexUids",
    "limit",
    "from",
    "reverse",
    "beforeEnqueuedAt",
    "afterFinishedAt",
]


def _object(rng: random.Random, names: list[str], sane: dict[str, Any] | None = None) -> dict:
    body = dict(sane or {})
    for name in rng.sample(names, k=min(len(names), rng.randint(1, 4))):
        body[name] = value(rng)
    return body


def _index(rng: random.Random) -> str:
    if rng.random() < 0.85:
        return rng.choice(INDEXES)
    return quote(rng.choice(["books\n", "a" * 401, "³", "\x00", "..", "%", "x y", "é"]), safe="")


def _text_param(rng: random.Random) -> str:
    item = scalar(rng)
    if isinstance(item, Raw):
        return bytes(item[:2000]).decode(errors="replace")
    text = (
        item
        if isinstance(item, str)
        else orjson.dumps(item).decode()
        if not isinstance(item, int)
        else str(item)
    )
    return text[:4_000]  # a URL's limit at the client: 64 KiB in all


def _params(rng: random.Random, names: list[str]) -> dict[str, str]:
    return {
        name: _text_param(rng) for name in rng.sample(names, k=rng.randint(1, min(3, len(names))))
    }


def _documents(rng: random.Random) -> Request:
    index = _index(rng)
    kind = rng.random()
    if kind < 0.5:
        docs = [
            _object(
                rng, ["id", "title", "n", "_vectors", "_geo", "tags"], {"id": rng.randint(1, 50)}
            )
            for _ in range(rng.randint(1, 3))
        ]
        body, ctype = (
            dumps(docs if rng.random() < 0.8 else rng.choice([docs[0], value(rng)])),
            "application/json",
        )
    elif kind < 0.7:
        body, ctype = (
            b"\n".join(dumps(_object(rng, ["id", "title"], {"id": 1})) for _ in range(3)),
            "application/x-ndjson",
        )
    elif kind < 0.85:
        body = rng.choice(
            [
                b"id,n:number\n1,\xff\n",
                b"id,n:number\n1,1e400\n",
                b"id:boolean\nmaybe\n",
                b"id\n" + b"x" * 100_000,
                b'id,"\n1,2',
                b"\x00,\x00\n\x00,\x00",
            ]
        )
        ctype = "text/csv"
    else:
        body = rng.choice(
            [
                b"[",
                b'[{"id":1}',
                b"\xff\xfe",
                b"\xef\xbb\xbf[]",
                b"[1,2]",
                b"null",
                b"{}",
                b'[{"id":1}]x',
            ]
        )
        ctype = rng.choice(["application/json", "application/x-ndjson", "text/csv"])
    params = (
        _params(rng, ["primaryKey", "csvDelimiter", "customMetadata", "skipCreation"])
        if rng.random() < 0.3
        else {}
    )
    return Request(rng.choice(["POST", "PUT"]), f"/indexes/{index}/documents", params, body, ctype)


def _search(rng: random.Random) -> Request:
    index = _index(rng)
    if rng.random() < 0.4:
        names = [*SEARCH_FIELDS, "hybridEmbedder", "hybridSemanticRatio"]
        return Request("GET", f"/indexes/{index}/search", _params(rng, names))
    return Request(
        "POST",
        f"/indexes/{index}/search",
        None or {},
        dumps(_object(rng, SEARCH_FIELDS, {"q": "dune"})),
    )


def _multi(rng: random.Random) -> Request:
    queries = [
        _object(rng, SEARCH_FIELDS, {"indexUid": rng.choice(INDEXES)})
        for _ in range(rng.randint(1, 3))
    ]
    body: dict[str, Any] = {"queries": queries}
    if rng.random() < 0.5:
        body["federation"] = _object(
            rng, ["offset", "limit", "page", "hitsPerPage", "facetsByIndex", "mergeFacets"]
        )
    return Request("POST", "/multi-search", {}, dumps(body))


def _settings(rng: random.Random) -> Request:
    index = _index(rng)
    if rng.random() < 0.5:
        return Request("PATCH", f"/indexes/{index}/settings", {}, dumps(_object(rng, SETTINGS)))
    name = rng.choice(
        [
            "ranking-rules",
            "stop-words",
            "synonyms",
            "typo-tolerance",
            "pagination",
            "faceting",
            "embedders",
            "filterable-attributes",
            "search-cutoff-ms",
        ]
    )
    return Request(
        rng.choice(["PUT", "PATCH"]), f"/indexes/{index}/settings/{name}", {}, dumps(value(rng))
    )


def _documents_read(rng: random.Random) -> Request:
    index = _index(rng)
    names = ["offset", "limit", "fields", "filter", "retrieveVectors", "ids", "sort"]
    if rng.random() < 0.5:
        return Request("GET", f"/indexes/{index}/documents", _params(rng, names))
    if rng.random() < 0.5:
        return Request("POST", f"/indexes/{index}/documents/fetch", {}, dumps(_object(rng, names)))
    return Request("GET", f"/indexes/{index}/documents/{quote(_text_param(rng)[:600], safe='')}")


def _documents_delete(rng: random.Random) -> Request:
    index = _index(rng)
    if rng.random() < 0.5:
        return Request(
            "POST",
            f"/indexes/{index}/documents/delete-batch",
            {},
            dumps([value(rng) for _ in range(3)]),
        )
    return Request(
        "POST", f"/indexes/{index}/documents/delete", {}, dumps(_object(rng, ["filter"]))
    )


def _tasks(rng: random.Random) -> Request:
    roll = rng.random()
    if roll < 0.3:
        return Request("GET", f"/tasks/{quote(_text_param(rng)[:100], safe='')}")
    if roll < 0.45:
        return Request("GET", f"/batches/{quote(_text_param(rng)[:100], safe='')}")
    if roll < 0.8:
        return Request("GET", rng.choice(["/tasks", "/batches"]), _params(rng, TASK_PARAMS))
    # Cancel or delete only tasks that cannot exist, so the run keeps its own history.
    params = {"uids": rng.choice(["³", "9223372036854775808", "4294967296", "1,٣", "", "*x"])}
    return Request(
        rng.choice(["POST", "DELETE"]), "/tasks/cancel" if roll < 0.9 else "/tasks", params
    )


def _indexes(rng: random.Random) -> Request:
    roll = rng.random()
    if roll < 0.3:
        return Request("POST", "/indexes", {}, dumps(_object(rng, ["uid", "primaryKey"])))
    if roll < 0.5:
        return Request(
            "PATCH", f"/indexes/{_index(rng)}", {}, dumps(_object(rng, ["uid", "primaryKey"]))
        )
    if roll < 0.7:
        return Request("GET", "/indexes", _params(rng, ["offset", "limit"]))
    if roll < 0.85:
        return Request("POST", "/swap-indexes", {}, dumps([_object(rng, ["indexes", "rename"])]))
    return Request(
        "POST",
        f"/indexes/{_index(rng)}/fields",
        {},
        dumps(_object(rng, ["offset", "limit", "filter"])),
    )


def _keys(rng: random.Random) -> Request:
    fields = ["actions", "indexes", "expiresAt", "name", "description", "uid"]
    if rng.random() < 0.5:
        return Request("POST", "/keys", {}, dumps(_object(rng, fields)))
    if rng.random() < 0.5:
        return Request("GET", "/keys", _params(rng, ["offset", "limit"]))
    return Request(
        "PATCH", f"/keys/{quote(_text_param(rng)[:200], safe='')}", {}, dumps(_object(rng, fields))
    )


def _other(rng: random.Random) -> Request:
    roll = rng.random()
    if roll < 0.2:
        return Request("POST", "/webhooks", {}, dumps(_object(rng, ["url", "headers", "uuid"])))
    if roll < 0.35:
        return Request(
            "PATCH", "/experimental-features", {}, dumps(_object(rng, ["metrics", "network"]))
        )
    if roll < 0.55:
        name = rng.choice(["searches", "top-queries", "zero-result-queries", "latency"])
        return Request("GET", f"/analytics/{name}", _params(rng, ["index", "from", "to", "limit"]))
    if roll < 0.7:
        return Request(
            "POST",
            f"/indexes/{_index(rng)}/facet-search",
            {},
            dumps(_object(rng, ["facetName", "facetQuery", "q", "filter"], {"facetName": "n"})),
        )
    if roll < 0.85:
        return Request(
            "POST",
            f"/indexes/{_index(rng)}/similar",
            {},
            dumps(_object(rng, ["id", "embedder", "offset", "limit", "filter"], {"id": 1})),
        )
    return Request(
        "GET",
        rng.choice(["/stats", "/indexes/books/stats", "/", "/search/books"]),
        _params(rng, ["showInternalDatabaseSizes", "sizeFormat", "page", "q", "f", "sort"]),
    )


GEO_POINTS = ["1e400, 0", "0, -1e400", "1..2, 0", "e, 0", "91, 0", "0, 180.5", "-0, -0",
              "90, 180", "NaN, 0", "1e-400, 1e-400"]
WEIGHTS = [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-0", b"5e-324", b"1e308", b"-1"]
CONTENT_TYPES = [b"application/json; charset=latin1", b"application/json; charset=utf-16",
                 b"application/json; charset=\xe9", b"text/plain", b"", b"application/*",
                 b"multipart/form-data; boundary=x", b"application/json;;;"]


def _dotted(rng: random.Random) -> str:
    return ".".join(["a"] * rng.choice([2, 200, 20_000]))


def _edges(rng: random.Random) -> Request:
    """fix2's cases: `_geoPoint` sorts that are no point, long dotted names, federation
    weights past floats, hundreds of queries, odd Content-Types and header bytes that are
    not UTF-8 (X-MS-USER-ID, Authorization)."""
    roll = rng.random()
    index = rng.choice(INDEXES)
    if roll < 0.2:
        point = rng.choice(GEO_POINTS)
        path = rng.choice([f"/indexes/{index}/search", f"/indexes/{index}/documents/fetch"])
        sort = [f"_geoPoint({point}):{rng.choice(['asc', 'desc'])}"]
        return Request("POST", path, {}, dumps({"sort": sort}))
    if roll < 0.4:
        name = _dotted(rng)
        body = rng.choice([{"filter": f"{name} = 1"}, {"sort": [f"{name}:asc"]}, {"facets": [name]},
                           {"attributesToRetrieve": [name], "attributesToCrop": [f"{name}:3"]}])
        return Request("POST", f"/indexes/{index}/search", {}, dumps(body))
    if roll < 0.55:
        weight = rng.choice(WEIGHTS)
        query = (b'{"indexUid":"' + index.encode() + b'","q":"dune","federationOptions":'
                 b'{"weight":' + weight + b"}}")
        count = rng.choice([1, 2, 300])
        body = b'{"federation":{},"queries":[' + b",".join([query] * count) + b"]}"
        return Request("POST", "/multi-search", {}, body)
    if roll < 0.7:
        page = rng.choice([0, 1, (1 << 32), (1 << 64) - 1])
        hits = rng.choice([0, 1, (1 << 32), (1 << 64) - 1])
        body = {"q": "dune", "page": page, "hitsPerPage": hits, "facets": ["n"]}
        return Request("POST", f"/indexes/{index}/search", {}, dumps(body))
    if roll < 0.85:
        ctype = rng.choice(CONTENT_TYPES)
        return Request("POST", f"/indexes/{index}/search", {}, b'{"q":"dune"}',
                       headers={"Content-Type": ctype})  # fmt: skip
    header = rng.choice(["X-MS-USER-ID", "Authorization", "Meili-Include-Metadata"])
    value = rng.choice([b"\xe9\xff", b"Bearer \xe9", "é".encode(), b"\x80" * 300])
    return Request("POST", f"/indexes/{index}/search", {}, b"{}", headers={header: value})


MAKERS = [
    _documents,
    _search,
    _search,
    _multi,
    _settings,
    _documents_read,
    _documents_delete,
    _tasks,
    _indexes,
    _keys,
    _other,
    _edges,
]


def hostile_request(rng: random.Random) -> Request:
    return rng.choice(MAKERS)(rng)
