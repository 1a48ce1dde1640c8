"""Arguments of the ``_geoRadius(...)`` and ``_geoBoundingBox(...)`` filter calls.

Each function takes the text between the call's parentheses and raises
:class:`GeoArgumentError` with Meilisearch's wording; the parser adds the
position context.
"""

from __future__ import annotations

import math
import re

from sift.engine.filters.tree import GeoBoundingBox, GeoRadius, Span

_BOX_ARGS = re.compile(r"\s*\[([^,\[\]]+),([^,\[\]]+)\]\s*,\s*\[([^,\[\]]+),([^,\[\]]+)\]\s*")


class GeoArgumentError(ValueError):
    """A malformed geo call; ``str(error)`` is the user-facing sentence."""


def parse_geo_radius(body: str, at: Span | None = None) -> GeoRadius:
    args = [part.strip() for part in body.split(",")]
    if len(args) != 3 or not all(args):
        raise GeoArgumentError(
            "The `_geoRadius` filter expects three arguments: "
            "`_geoRadius(latitude, longitude, radius)`."
        )
    lat, lng, radius = (_number(arg) for arg in args)
    _check_point(lat, args[0], lng, args[1])
    return GeoRadius(lat, lng, radius, at)


def parse_geo_bounding_box(body: str, at: Span | None = None) -> GeoBoundingBox:
    match = _BOX_ARGS.fullmatch(body)
    if match is None:
        raise GeoArgumentError(
            "The `_geoBoundingBox` filter expects two pairs of arguments: "
            "`_geoBoundingBox([latitude, longitude], [latitude, longitude])`."
        )
    raw = [group.strip() for group in match.groups()]
    top, right, bottom, left = (_number(arg) for arg in raw)
    _check_point(top, raw[0], right, raw[1])
    _check_point(bottom, raw[2], left, raw[3])
    if top < bottom:
        raise GeoArgumentError(
            f"The top latitude `{raw[0]}` is below the bottom latitude `{raw[2]}`."
        )
    return GeoBoundingBox(top, right, bottom, left, at)


def _number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise GeoArgumentError(f"Could not parse `{raw}` as a number.")
    return value


def _check_point(lat: float, raw_lat: str, lng: float, raw_lng: str) -> None:
    if not -90.0 <= lat <= 90.0:
        raise GeoArgumentError(
            f"Bad latitude `{raw_lat}`. Latitude must be contained between -90 and 90 degrees."
        )
    if not -180.0 <= lng <= 180.0:
        raise GeoArgumentError(
            f"Bad longitude `{raw_lng}`. Longitude must be contained between -180 and 180 degrees."
        )
