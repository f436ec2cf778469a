"""Static files: served by the app itself; the static folders are walked once per process."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from whitenoise.middleware import WhiteNoiseMiddleware

from openiop.core.static import StaticFilesMiddleware


def _described(static) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """What WhiteNoise will answer for a file: its variants, their paths and headers."""
    return [(pattern.pattern, path, list(headers))
            for pattern, path, headers in static.alternatives]


def test_the_cached_walk_serves_the_same_files_with_the_same_headers_as_whitenoise(settings):
    StaticFilesMiddleware._walked.clear()
    plain = WhiteNoiseMiddleware(lambda request: None)
    first = StaticFilesMiddleware(lambda request: None)
    second = StaticFilesMiddleware(lambda request: None)
    assert set(plain.files) == set(first.files) == set(second.files)
    assert any(url.endswith(".css") for url in plain.files)
    for url, static in plain.files.items():
        for kept in (first.files[url], second.files[url]):
            assert _described(kept) == _described(static), url  # same paths, headers, sizes


def test_later_instances_do_not_walk_the_folders_again(monkeypatch):
    StaticFilesMiddleware._walked.clear()
    StaticFilesMiddleware(lambda request: None)

    def no_walk():
        raise AssertionError("the static folders were walked again")

    monkeypatch.setattr(finders, "get_finders", no_walk)
    assert StaticFilesMiddleware(lambda request: None).files


def test_a_setting_that_shapes_headers_walks_again(settings):
    StaticFilesMiddleware._walked.clear()
    StaticFilesMiddleware(lambda request: None)
    settings.WHITENOISE_MAX_AGE = 7
    StaticFilesMiddleware(lambda request: None)
    assert len(StaticFilesMiddleware._walked) == 2


@pytest.mark.django_db
def test_a_stylesheet_is_served_by_the_app():
    url = next(u for u in StaticFilesMiddleware(lambda request: None).files if u.endswith(".css"))
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b"".join(response.streaming_content if response.streaming else [response.content])
