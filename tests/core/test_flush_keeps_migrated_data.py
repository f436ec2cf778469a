"""A transactional test ends with `flush`; the next test still finds the database as
migrated (the module library the skills data migration loaded), whatever the order."""

from __future__ import annotations

from django.core.management import call_command

from openiop.skills.library import load_library
from openiop.skills.models import Module, Skill


def test_the_suites_flush_leaves_the_migrated_library_in_place(transactional_db):
    library = load_library()
    assert Module.objects.count() >= len(library["modules"]) > 0
    call_command("flush", interactive=False, verbosity=0)
    # Everything the tests wrote is gone, the migration's library is back.
    assert set(Module.objects.values_list("slug", flat=True)) >= {
        m["slug"] for m in library["modules"]}
    assert Skill.objects.count() >= len(library["skills"]) > 0
