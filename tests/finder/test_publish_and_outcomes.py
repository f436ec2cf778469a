"""Programs on this instance publish their listing; de-identified outcomes with suppression."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from openiop.finder.services import listing_publish_program
from openiop.finder.trust import completion, median_stat, rate_stat, weekly_hours
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_program_publishes_its_listing_from_program_and_track_data(world):
    f.track(world.program, name="Morning", kind="morning", start_time=time(9),
            end_time=time(12), capacity=12)
    f.session(world.program, kind="family")
    f.session(world.program, kind="yoga")
    listing = listing_publish_program(program=world.program)
    assert listing.is_local and listing.name == world.program.name
    assert listing.organization_name == world.org.name
    assert listing.schedule_options == ["morning", "evening"]
    assert (listing.hours_per_week_min, listing.hours_per_week_max) == (9, 9)
    assert listing.levels_of_care == ["IOP"] and listing.focus == "co"
    assert listing.populations == ["adults"]
    assert "family" in listing.therapies and listing.holistic == ["yoga"]
    assert listing.openings == 10 + 12 - 1
    assert "|sch:morning|" in listing.tags
    # Staff-entered directory facts survive a refresh.
    listing.languages = ["English", "Somali"]
    listing.save()
    again = listing_publish_program(program=world.program)
    assert again.pk == listing.pk and again.languages == ["English", "Somali"]


def test_unpublished_programs_are_hidden_from_search(client, world):
    listing_publish_program(program=world.program)
    world.program.is_published = False
    world.program.save()
    listing_publish_program(program=world.program)
    assert client.get("/find/", {"zip": "43215"}).context["result"].total == 0


@pytest.mark.parametrize(("num", "den", "shown"), [
    (0, 0, None), (5, 10, None), (10, 20, None), (12, 20, None), (11, 22, "50%"),
    (30, 30, "100%"), (0, 30, "0%"),
])
def test_rates_under_11_people_are_suppressed(num, den, shown):
    assert rate_stat("x", num, den).value == shown


def test_medians_need_11_people():
    assert median_stat("x", [-3] * 10).value is None
    assert median_stat("x", [-3] * 10).suppressed
    assert median_stat("x", [-3] * 6 + [-1] * 5).value == "-3 points"


def test_completion_counts_finished_against_cancelled_episodes(world):
    for status in ["finished"] * 15 + ["cancelled"] * 12:
        p = f.participant(world.org)
        f.episode(p, world.program, status=status,
                  discharged_on=timezone.localdate())
    stat = completion(world.program)
    assert stat.value == "56%" and stat.people == 27


def test_completion_follows_the_discharge_reason_when_there_is_one(world):
    from openiop.care.models import Discharge

    for i in range(24):
        p = f.participant(world.org)
        ep = f.episode(p, world.program, status="finished", discharged_on=timezone.localdate())
        if i < 12:
            Discharge.objects.create(episode=ep, discharged_on=ep.discharged_on,
                                     reason="against_advice", summary="Synthetic.",
                                     recorded_by=world.clinician)
    assert completion(world.program).value == "50%"


def test_weekly_hours_share_uses_attended_minutes_against_the_minimum(world):
    now = timezone.localtime()
    last_monday = now.date() - timedelta(days=now.weekday() + 7)
    start = timezone.make_aware(timezone.datetime.combine(last_monday, time(9)))
    full = f.session(world.program, starts_at=start, minutes=9 * 60)
    people = [f.participant(world.org) for _ in range(24)]
    for i, person in enumerate(people):
        booking = f.booking(full, person)
        f.attendance(booking, minutes=9 * 60 if i < 12 else 3 * 60)
    stat = weekly_hours(world.program)
    assert stat.value == "50%" and stat.people == 24
