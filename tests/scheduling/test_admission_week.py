"""Someone admitted mid-week is not "0 h of 9 h" for the week before admission; the week of
admission is pro-rated and marked partial, in the hours, the compliance list, the pages and
the API."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from openiop.care.models import EpisodeOfCare
from openiop.scheduling import selectors
from openiop.scheduling.hours import week_minimum

from .. import factories as f
from ..conftest import login

NOW = datetime(2026, 3, 13, 20, 0, tzinfo=UTC)  # Friday of the week of admission
ADMITTED = date(2026, 3, 11)  # a Wednesday
WEEK = date(2026, 3, 9)  # its Monday
WEEK_BEFORE = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("week", "admitted", "discharged", "expected"),
    [
        (WEEK_BEFORE, ADMITTED, None, (None, False)),  # not in care yet: no minimum at all
        (WEEK, ADMITTED, None, (386, True)),  # Wed-Sun: 5 of 7 days of 540 min
        (WEEK, date(2026, 3, 9), None, (540, False)),  # admitted on the Monday: a full week
        (WEEK, date(2026, 3, 15), None, (77, True)),  # admitted on the Sunday: 1 day
        (WEEK + timedelta(days=7), ADMITTED, None, (540, False)),
        (WEEK + timedelta(days=7), ADMITTED, date(2026, 3, 17), (154, True)),  # Mon-Tue
        (WEEK + timedelta(days=14), ADMITTED, date(2026, 3, 17), (None, False)),
    ],
)
def test_the_minimum_of_a_week_follows_the_days_in_care(week, admitted, discharged, expected):
    assert week_minimum(540, week_start=week, admitted_on=admitted,
                        discharged_on=discharged) == expected


@pytest.fixture
def admitted_wednesday(world):
    EpisodeOfCare.objects.filter(pk=world.episode.pk).update(admitted_on=ADMITTED)
    world.episode.refresh_from_db()
    tz = ZoneInfo(world.org.time_zone)
    s = f.session(world.program, track=world.track,
                  starts_at=datetime.combine(ADMITTED, time(18), tzinfo=tz), minutes=90)
    f.attendance(f.booking(s, world.participant))
    return world


def test_compliance_skips_the_week_before_and_prorates_the_week_of_admission(
        admitted_wednesday):
    world = admitted_wednesday
    with time_machine.travel(NOW, tick=False):
        assert selectors.compliance(world.org, WEEK_BEFORE) == []
        (row,) = selectors.compliance(world.org, WEEK)
    assert row.participant == world.participant
    assert (row.attended, row.minimum, row.partial) == (90, 386, True)
    assert row.reason.startswith("admitted Wed Mar 11, minimum pro-rated")


def test_the_schedule_tab_and_the_compliance_page_say_partial(admitted_wednesday):
    world = admitted_wednesday
    with time_machine.travel(NOW, tick=False):
        client = login(world.clinician)  # signed in at NOW, not at the suite's clock
        tab = client.get(reverse("scheduling:participant_schedule",
                                 kwargs={"code": world.participant.code})).content.decode()
        page = client.get(reverse("scheduling:compliance") + f"?week={WEEK}").content.decode()
        before = client.get(reverse("scheduling:compliance") + f"?week={WEEK_BEFORE}")
    assert "1 h 30 min of 6 h 26 min (partial week: admitted Wed Mar 11" in tab
    assert "0 h of 9 h" not in tab
    assert "Mar 2 (before admission)" in tab and "Mar 9 (partial week)" in tab
    assert "partial week" in page and world.participant.display_name in page
    assert world.participant.display_name not in before.content.decode()


def test_the_hours_api_gives_each_weeks_minimum(admitted_wednesday):
    world = admitted_wednesday
    with time_machine.travel(NOW, tick=False):
        data = login(world.clinician).get(
            f"/api/scheduling/participants/{world.participant.code}/hours",
            {"weeks": 2}).json()
    assert [(w["week"], w["minutes"], w["minimum_minutes"], w["partial"])
            for w in data["weeks"]] == [("2026-03-02", 0, None, False),
                                        ("2026-03-09", 90, 386, True)]
    assert data["weekly_minimum_minutes"] == 540
