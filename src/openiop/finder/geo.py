"""Distances between ZIP codes, offline.

ZIP centroids come from the `zipcodes` package (no network). Distance is the
great-circle (haversine) distance on a sphere of the Earth's mean radius, 3,958.8 miles
(IUGG mean radius 6,371.0 km), in straight-line miles, which is what the national
locator's radius means as well (its limitValue is a distance in metres; docs/finder-locator.md).

`bounding_box` returns a latitude/longitude box that contains every point within the
radius, so the database can discard far rows on an index before the exact distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from openiop.core.filecache import load_or_build

EARTH_RADIUS_MILES = 3958.8


@dataclass(frozen=True)
class ZipPoint:
    zip_code: str
    latitude: float
    longitude: float
    city: str
    state: str
    area_code: str = ""

    @property
    def place(self) -> str:
        return f"{self.city}, {self.state}"


def _zip_rows() -> dict[str, tuple[float, float, str, str, str]]:
    """ZIP code -> (latitude, longitude, city, state, first area code), from the package."""
    import zipcodes

    rows: dict[str, tuple[float, float, str, str, str]] = {}
    for row in zipcodes.list_all():
        try:
            lat, lon = float(row["lat"]), float(row["long"])
        except (TypeError, ValueError):
            continue
        codes = row.get("area_codes") or [""]
        rows[row["zip_code"]] = (lat, lon, row["city"], row["state"], codes[0])
    return rows


@lru_cache(maxsize=1)
def _zip_table() -> dict[str, tuple[float, float, str, str, str]]:
    # Parsing the package's 42,000 ZIP codes costs about a second of CPU per process (each
    # web worker's first search, each test worker): kept in var/cache (core.filecache).
    return load_or_build(
        "zipcodes", "zipcodes", _zip_rows, lambda rows: isinstance(rows, dict) and bool(rows)
    )


def zip_point(zip_code: str) -> ZipPoint | None:
    """The centroid of a 5-digit ZIP code, or None when the package does not know it."""
    code = (zip_code or "").strip()
    row = _zip_table().get(code)
    return ZipPoint(code, *row) if row else None


def all_zip_points() -> list[ZipPoint]:
    return [ZipPoint(code, *row) for code, row in _zip_table().items()]


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Box:
    min_lat: float
    max_lat: float
    # One or two longitude ranges (two when the box crosses the 180th meridian).
    lon_ranges: tuple[tuple[float, float], ...]


def bounding_box(lat: float, lon: float, radius_miles: float) -> Box:
    """The smallest lat/lon box holding the spherical cap of `radius_miles` around a point.

    Method: J. P. Matuschek, "Finding Points Within a Distance of a Latitude/Longitude
    Using Bounding Coordinates" (the longitude half-width is asin(sin(r) / cos(lat))).
    A small margin covers floating-point rounding at the edge.
    """
    r = radius_miles / EARTH_RADIUS_MILES
    lat_r = math.radians(lat)
    min_lat, max_lat = lat_r - r, lat_r + r
    margin = 1e-9
    if min_lat > -math.pi / 2 and max_lat < math.pi / 2:
        dlon = math.asin(min(1.0, math.sin(r) / math.cos(lat_r)))
        lo, hi = math.degrees(lat_r - r), math.degrees(lat_r + r)
        west, east = lon - math.degrees(dlon), lon + math.degrees(dlon)
        ranges: tuple[tuple[float, float], ...]
        if west < -180:
            ranges = ((west + 360, 180.0), (-180.0, east))
        elif east > 180:
            ranges = ((west, 180.0), (-180.0, east - 360))
        else:
            ranges = ((west - margin, east + margin),)
        return Box(lo - margin, hi + margin, ranges)
    # A pole is inside the circle: every longitude qualifies.
    return Box(
        max(math.degrees(min_lat), -90.0), min(math.degrees(max_lat), 90.0), ((-180.0, 180.0),)
    )
