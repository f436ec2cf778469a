"""Calendar feeds: stable event UIDs whatever host serves them; 410 Gone once revoked or
once the staff member is deactivated."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.test import Client
from django.utils import timezone

from openiop.accounts.services import staff_set_active
from openiop.scheduling.services import feed_create, feed_revoke
from tests import factories as f

NOW = timezone.datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_fixed_timezone(0))


def _uids(body: bytes) -> set[str]:
    return {line.split(":", 1)[1].strip() for line in body.decode().splitlines()
            if line.startswith("UID:")}


@time_machine.travel(NOW, tick=False)
def test_event_uids_do_not_depend_on_the_host_name(world, settings):
    settings.ALLOWED_HOSTS = ["iop.example.org", "other.example.org"]
    session = f.session(world.program, facilitator=world.clinician,
                        starts_at=NOW + timedelta(days=1))
    feed = feed_create(actor=world.clinician, user=world.clinician)
    url = f"/schedule/feeds/{feed.token}.ics"
    one = Client(HTTP_HOST="iop.example.org").get(url)
    two = Client(HTTP_HOST="other.example.org").get(url)
    assert one.status_code == two.status_code == 200
    assert _uids(one.content) == _uids(two.content) == {f"{session.code}@openiop"}


def test_a_revoked_feed_answers_410_gone(world):
    feed = feed_create(actor=world.clinician, user=world.clinician)
    url = f"/schedule/feeds/{feed.token}.ics"
    assert Client().get(url).status_code == 200
    feed_revoke(actor=world.clinician, feed=feed)
    assert Client().get(url).status_code == 410
    assert Client().get(f"/schedule/feeds/{'x' * 43}.ics").status_code == 404


def test_a_deactivated_staff_members_feed_stops(world):
    feed = feed_create(actor=world.colleague, user=world.colleague)
    url = f"/schedule/feeds/{feed.token}.ics"
    assert Client().get(url).status_code == 200
    staff_set_active(actor=world.director, user=world.colleague, active=False,
                     reason="left the clinic")
    gone = Client().get(url)
    assert gone.status_code == 410 and b"BEGIN:VCALENDAR" not in gone.content
