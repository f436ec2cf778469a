"""Two workers telling the billing office at the same instant on PostgreSQL: told once."""

from __future__ import annotations

import pytest
from django.db import connection

from openiop.billing.models import AuthorizationNotice
from openiop.billing.services.notices import authorization_notices_send
from openiop.notifications.models import Notification
from tests.concurrency import at_the_same_instant

from .conftest import FROZEN
from .test_authorization_notices import ENDING, _auth

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL concurrency"),
]


def test_two_workers_at_the_same_instant_tell_billing_once(clinic):
    _auth(clinic, ends_in=2)
    sent = at_the_same_instant(lambda: authorization_notices_send(now=FROZEN))
    assert sorted(sent) == [0, 0, 1] and AuthorizationNotice.objects.count() == 1
    assert list(Notification.objects.values_list("user", "text")) == [(clinic.billing.pk, ENDING)]
