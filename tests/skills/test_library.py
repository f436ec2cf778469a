"""The module library is data written for OpenIOP and loaded by a data migration."""

from __future__ import annotations

import json

import pytest

from openiop.skills.library import LIBRARY_PATH, LibraryError, library_sync, load_library
from openiop.skills.models import Module, Skill, Topic


def test_the_library_has_at_least_24_complete_modules_across_every_topic():
    data = load_library()
    assert len(data["modules"]) >= 24
    assert {m["topic"] for m in data["modules"]} == set(Topic.values)
    for module in data["modules"]:
        assert len(module["objectives"]) >= 2, module["slug"]
        assert len(module["outline"]) >= 3, module["slug"]
        assert len(module["handout"]) > 400, module["slug"]
        assert module["homework"], module["slug"]
    assert "Written for OpenIOP" in data["source"]


def test_the_data_migration_loaded_modules_and_skills(db):
    assert Module.objects.count() == len(load_library()["modules"])
    assert Skill.objects.count() >= 15
    assert Module.objects.get(slug="riding-out-cravings").skills.filter(slug="urge-surfing").exists()
    assert Module.objects.filter(audience="family").count() >= 3


def test_sync_is_idempotent_and_keeps_codes(db):
    before = dict(Module.objects.values_list("slug", "code"))
    library_sync()
    assert dict(Module.objects.values_list("slug", "code")) == before


def test_a_malformed_library_is_refused_naming_the_module(tmp_path):
    data = json.loads(LIBRARY_PATH.read_text())
    data["modules"][0]["handout"] = ""
    bad = tmp_path / "library.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(LibraryError, match=data["modules"][0]["slug"]):
        load_library.__wrapped__(bad)
