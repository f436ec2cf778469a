"""Small listing factories for the finder tests (no demo build needed)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from openiop.finder.geo import zip_point
from openiop.finder.models import Listing

_seq = itertools.count(1)


def make_listing(zip_code: str = "43215", **kw: Any) -> Listing:
    """An imported listing at a ZIP centroid with sensible defaults; kw overrides."""
    n = next(_seq)
    point = zip_point(zip_code)
    defaults: dict[str, Any] = {
        "source": Listing.Source.IMPORT, "source_key": f"test:{n}",
        "name": f"Program {n}", "organization_name": f"Org {n}", "city": point.city,
        "state": point.state, "zip_code": zip_code, "latitude": point.latitude,
        "longitude": point.longitude, "focus": "mh", "levels_of_care": ["IOP"],
        "populations": ["adults"], "therapies": ["individual", "group"],
        "schedule_options": ["daytime"], "payment": ["self_pay"], "languages": ["English"],
    }
    listing = Listing(**(defaults | kw))
    listing.save()
    return listing


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The personas' passwords are hashed with Argon2 by default; these tests never log in
    with a password, so a fast hasher keeps them quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
