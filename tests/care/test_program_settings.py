"""Typed program settings: defaults in one place, validated, bad stored values reported,
and the director's page that shows each value with its source."""

from __future__ import annotations

import importlib
import logging

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from openiop.audit.models import AccessEvent
from openiop.care.models import Program
from openiop.care.program_settings import (
    DEFAULTS,
    ProgramSettings,
    leaf_fields,
    normalized,
    resolve,
)
from openiop.intake.decisions import cssrs_window_days
from openiop.medications.selectors import review_days
from openiop.scheduling import planning
from tests.conftest import login


def test_nothing_stored_means_every_default_and_every_source_is_default():
    resolved = resolve({})
    assert resolved.settings == ProgramSettings()
    assert resolved.problems == ()
    assert set(resolved.sources.values()) == {"default"}
    assert set(resolved.sources) == {path for path, _ in leaf_fields()}


def test_readers_take_the_programs_value_and_the_default_otherwise(world):
    assert cssrs_window_days(world.program) == ProgramSettings().cssrs_window_days
    world.program.settings = {"cssrs_window_days": 12}
    assert cssrs_window_days(world.program) == 12
    assert review_days(None) == DEFAULTS["medication_review_days"]
    # The planner no longer carries its own copy of the cadence defaults.
    assert not hasattr(planning, "DEFAULT_CADENCE")


def test_a_bad_stored_value_is_reported_by_name_not_silently_replaced(world, caplog):
    world.program.settings = {"cssrs_window_days": 500, "attendance_policy": {"absences": -1},
                              "response_hours": {"start": "18:00"}, "no_such_rule": 1}
    with caplog.at_level(logging.WARNING, logger="openiop.care.settings"):
        typed = world.program.typed_settings
    assert typed.cssrs_window_days == DEFAULTS["cssrs_window_days"]
    assert typed.attendance_policy.absences == DEFAULTS["attendance_policy"]["absences"]
    problems = {p.path: p.message for p in resolve(world.program.settings).problems}
    assert set(problems) == {"cssrs_window_days", "attendance_policy.absences",
                             "response_hours", "no_such_rule"}
    assert problems["no_such_rule"] == "not a program setting"
    assert "closing time must be after opening time" in problems["response_hours"]
    [record] = caplog.records
    assert "cssrs_window_days" in record.getMessage() and "500" not in record.getMessage()


def test_normalizing_makes_valid_values_canonical_and_keeps_bad_ones_for_a_director():
    assert normalized({"cssrs_window_days": "12", "response_hours": {"start": "08:00"},
                       "medication_review_days": "soon"}) == {
        "cssrs_window_days": 12, "response_hours": {"start": "08:00:00"},
        "medication_review_days": "soon"}


def test_the_data_migration_normalizes_what_is_stored(world):
    Program.objects.filter(pk=world.program.pk).update(settings={"individual_per_week": "2"})
    migration = importlib.import_module(
        "openiop.care.migrations.0006_normalize_program_settings")
    migration.forward(django_apps, None)
    assert Program.objects.get(pk=world.program.pk).settings == {"individual_per_week": 2}


def _url(program):
    return reverse("care:program_settings", args=[program.code])


def test_the_director_sees_every_setting_with_its_source(world, django_assert_max_num_queries):
    world.program.settings = {"cssrs_window_days": 10, "certified_otp": "maybe"}
    world.program.save()
    client = login(world.director)
    with django_assert_max_num_queries(12):
        response = client.get(_url(world.program))
    assert response.status_code == 200
    page = response.content.decode()
    for path, _ in leaf_fields():
        assert path in page
    rows = {r["path"]: r for r in response.context["rows"]}
    assert rows["cssrs_window_days"]["source"] == "set" and rows["cssrs_window_days"]["value"] == "10"
    assert rows["medication_review_days"]["source"] == "default"
    assert "Stored settings that are not valid" in page and "certified_otp" in page
    assert world.program.name in page


def test_bad_input_is_refused_naming_the_setting_and_nothing_is_saved(world):
    world.program.settings = {"cssrs_window_days": 10}
    world.program.save()
    client = login(world.director)
    response = client.post(_url(world.program), {"cssrs_window_days": "500",
                                                 "response_hours__start": "18:00"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "A C-SSRS counts for (days)" in page and "less than or equal to 90" in page
    assert "Opens at" in page or "closing time must be after opening time" in page
    assert Program.objects.get(pk=world.program.pk).settings == {"cssrs_window_days": 10}


def test_a_director_sets_and_clears_settings_with_an_audit_event(world):
    client = login(world.director)
    before = AccessEvent.objects.filter(object_type="care.Program").count()
    response = client.post(_url(world.program), {
        "attendance_policy__absences": "4", "certified_otp": "yes",
        "response_hours__weekdays": "0, 1, 2, 3, 4, 5", "portal_checkins": "phq9"})
    assert response.status_code == 302
    stored = Program.objects.get(pk=world.program.pk).settings
    assert stored == {"attendance_policy": {"absences": 4}, "certified_otp": True,
                      "response_hours": {"weekdays": [0, 1, 2, 3, 4, 5]},
                      "portal_checkins": ["phq9"]}
    assert AccessEvent.objects.filter(object_type="care.Program").count() == before + 1
    # Emptying a field returns the setting to its default.
    client.post(_url(world.program), {"certified_otp": "yes"})
    assert Program.objects.get(pk=world.program.pk).settings == {"certified_otp": True}


@pytest.mark.parametrize("who", ["clinician", "outsider"])
def test_others_cannot_open_the_page_nor_see_its_link(world, who):
    client = login(getattr(world, who))
    assert client.get(_url(world.program)).status_code == 404
    assert client.post(_url(world.program), {"certified_otp": "yes"}).status_code == 404
    assert Program.objects.get(pk=world.program.pk).settings.get("certified_otp") is None
    if who == "clinician":
        page = client.get(reverse("care:programs")).content.decode()
        assert _url(world.program) not in page
    director_page = login(world.director).get(reverse("care:programs")).content.decode()
    assert _url(world.program) in director_page
