"""Fast password hashing for these tests: the world fixture creates several users and
Argon2 (the production hasher) costs about half a second each."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
