"""Distances between ZIP codes and the bounding box that prefilters the search."""

from __future__ import annotations

import math
import random

import pytest

from openiop.finder.geo import (
    EARTH_RADIUS_MILES,
    bounding_box,
    haversine_miles,
    zip_point,
)


def _law_of_cosines(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """An independent great-circle formula to check haversine against."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return EARTH_RADIUS_MILES * math.acos(max(-1.0, min(1.0, c)))


# Known pairs: straight-line distances between the cities (published great-circle figures,
# rounded), checked within 2% because ZIP centroids are not city halls.
KNOWN_PAIRS = [
    ("43215", "45202", 99),     # Columbus, OH - Cincinnati, OH
    ("10001", "90001", 2445),   # New York, NY - Los Angeles, CA
    ("60601", "02108", 851),    # Chicago, IL - Boston, MA
    ("98101", "97201", 145),    # Seattle, WA - Portland, OR
]


@pytest.mark.parametrize(("a", "b", "miles"), KNOWN_PAIRS)
def test_distance_between_known_zip_pairs(a, b, miles):
    p, q = zip_point(a), zip_point(b)
    d = haversine_miles(p.latitude, p.longitude, q.latitude, q.longitude)
    assert d == pytest.approx(miles, rel=0.02)
    assert d == pytest.approx(_law_of_cosines(p.latitude, p.longitude, q.latitude, q.longitude),
                              abs=0.01)
    assert haversine_miles(q.latitude, q.longitude, p.latitude, p.longitude) == pytest.approx(d)


def test_a_zip_is_zero_miles_from_itself_and_neighbours_are_close():
    p, q = zip_point("43215"), zip_point("43214")
    assert haversine_miles(p.latitude, p.longitude, p.latitude, p.longitude) == 0
    assert 5 < haversine_miles(p.latitude, p.longitude, q.latitude, q.longitude) < 7


def test_unknown_zip_codes_have_no_point():
    assert zip_point("00000") is None
    assert zip_point("abcde") is None
    assert zip_point("43215").place == "Columbus, OH"


@pytest.mark.parametrize("radius", [5, 25, 100, 500])
def test_bounding_box_never_drops_a_point_inside_the_radius(radius):
    rng = random.Random(radius)
    for _ in range(300):
        lat, lon = rng.uniform(-70, 70), rng.uniform(-179, 179)
        box = bounding_box(lat, lon, radius)
        for _ in range(20):
            # A point at a random bearing, just inside the radius.
            bearing = rng.uniform(0, 2 * math.pi)
            d = radius * 0.999 / EARTH_RADIUS_MILES
            p1, l1 = math.radians(lat), math.radians(lon)
            p2 = math.asin(math.sin(p1) * math.cos(d)
                           + math.cos(p1) * math.sin(d) * math.cos(bearing))
            l2 = l1 + math.atan2(math.sin(bearing) * math.sin(d) * math.cos(p1),
                                 math.cos(d) - math.sin(p1) * math.sin(p2))
            plat = math.degrees(p2)
            plon = (math.degrees(l2) + 540) % 360 - 180
            assert haversine_miles(lat, lon, plat, plon) <= radius
            assert box.min_lat <= plat <= box.max_lat
            assert any(lo <= plon <= hi for lo, hi in box.lon_ranges), (lat, lon, plat, plon)


def test_bounding_box_splits_at_the_antimeridian():
    box = bounding_box(52.0, 179.9, 50)  # the Aleutians
    assert len(box.lon_ranges) == 2
    assert any(lo <= -179.5 <= hi for lo, hi in box.lon_ranges)


def test_the_zip_table_is_kept_for_the_next_process_and_survives_a_broken_cache(settings, tmp_path):
    from openiop.finder import geo

    settings.VAR_DIR = tmp_path
    geo._zip_table.cache_clear()
    try:
        columbus = geo.zip_point("43215")
        (cache,) = (tmp_path / "cache").glob("zipcodes-*.marshal")
        assert cache.stat().st_size > 100_000
        # The next process reads the file instead of the package: same answers.
        geo._zip_table.cache_clear()
        assert geo.zip_point("43215") == columbus and columbus.state == "OH"
        # A damaged file is not trusted: the table is rebuilt from the package and rewritten.
        cache.write_bytes(b"\x00garbage")
        geo._zip_table.cache_clear()
        assert geo.zip_point("43215") == columbus
        assert cache.stat().st_size > 100_000
        assert geo.zip_point("00000") is None and geo.zip_point("") is None
    finally:
        geo._zip_table.cache_clear()
