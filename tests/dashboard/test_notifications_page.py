"""The notifications list: unread count, open one (marks it read), mark all read."""

from __future__ import annotations

from django.utils import timezone

from openiop.notifications.models import Notification
from tests.conftest import login

TEXT = "A task for a participant of Adult IOP needs you — open OpenIOP"


def _note(user, url="/dashboard/safety-tasks/00000000-0000-0000-0000-000000000001/"):
    return Notification.objects.create(user=user, text=TEXT, url=url, created_at=timezone.now())


def test_opening_a_notification_marks_it_read_and_follows_its_link(world, as_clinician):
    first, second = _note(world.clinician), _note(world.clinician, url="//evil.example/")
    html = as_clinician.get("/dashboard/notifications/").content.decode()
    assert "2 unread" in html and TEXT in html
    response = as_clinician.post(f"/dashboard/notifications/{first.pk}/open/")
    assert response.status_code == 302 and response["Location"] == first.url
    # A link that leaves the site is never followed.
    response = as_clinician.post(f"/dashboard/notifications/{second.pk}/open/")
    assert response["Location"] == "/dashboard/notifications/"
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_someone_elses_notification_is_a_404_and_stays_unread(world):
    note = _note(world.clinician)
    assert login(world.colleague).post(f"/dashboard/notifications/{note.pk}/open/").status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_mark_all_read(world, as_clinician):
    _note(world.clinician), _note(world.clinician)
    _note(world.colleague)
    as_clinician.post("/dashboard/notifications/")
    assert Notification.objects.filter(read_at__isnull=True).count() == 1
