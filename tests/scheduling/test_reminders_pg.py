"""Two workers sending reminders at the same instant on PostgreSQL: each is sent once."""

from __future__ import annotations

import pytest
from django.db import connection

from openiop.accounts.models import Role, User
from openiop.notifications.models import Notification
from openiop.scheduling.models import SessionReminder
from openiop.scheduling.services.reminders import session_reminders_send
from tests.concurrency import at_the_same_instant

from .. import factories as f
from .test_reminders import NOW, TEXT, TOMORROW_9

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL concurrency"),
]


def test_two_workers_at_the_same_instant_send_each_reminder_once(world):
    user = User.objects.create(username="jamie", role=Role.PARTICIPANT)
    world.participant.user = user
    world.participant.save()
    for hour in (9, 11, 13):
        f.booking(f.session(world.program, starts_at=TOMORROW_9.replace(hour=hour)),
                  world.participant)
    sent = at_the_same_instant(lambda: session_reminders_send(now=NOW))
    assert sum(sent) == 3 and SessionReminder.objects.count() == 3
    assert Notification.objects.filter(user=user).count() == 3
    assert set(Notification.objects.values_list("text", flat=True)) == {
        TEXT, TEXT.replace("9:00 AM", "11:00 AM"), TEXT.replace("9:00 AM", "1:00 PM")}
