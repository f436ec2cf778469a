"""The PostgreSQL half of `make test` skips only tests that cannot reach a database."""

from __future__ import annotations

import unittest
from types import SimpleNamespace

import pytest

from tests.conftest import _may_touch_database


def _item(path, fixtures=(), marker=None, cls=None):
    return SimpleNamespace(fixturenames=list(fixtures), fspath=path, cls=cls,
                           get_closest_marker=lambda name: marker if name == "django_db" else None)


@pytest.fixture
def plain_module(tmp_path):
    path = tmp_path / "test_plain.py"
    path.write_text("def test_sum():\n    assert 1 + 1 == 2\n")
    return path


def test_a_pure_function_test_is_database_free(plain_module):
    assert not _may_touch_database(_item(plain_module, ["settings", "tmp_path"]), {})


@pytest.mark.parametrize("fixture", ["db", "transactional_db", "live_server"])
def test_a_database_fixture_keeps_the_test(plain_module, fixture):
    assert _may_touch_database(_item(plain_module, ["settings", fixture]), {})


def test_a_mark_or_a_testcase_keeps_the_test(plain_module):
    assert _may_touch_database(_item(plain_module, marker=object()), {})
    assert _may_touch_database(_item(plain_module, cls=unittest.TestCase), {})


def test_a_module_that_reads_the_database_environment_keeps_its_tests(tmp_path):
    path = tmp_path / "test_env.py"
    path.write_text("import os\n\ndef test_url():\n    assert os.environ.get('DATABASE_URL')\n")
    assert _may_touch_database(_item(path), {})
