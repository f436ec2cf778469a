from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from openiop.accounts.models import Role, User
from openiop.participants.models import Consent, Participant, RelatedPerson
from tests import factories as f


def family_member(p: Participant, scopes: list[str], *, username: str = "mom") -> tuple[User, Consent]:
    user = User.objects.create_user(username=username, password=f.PASSWORD, role=Role.FAMILY)
    person = RelatedPerson.objects.create(participant=p, name="Pat Parent", relationship="parent", user=user)
    consent = Consent.objects.create(participant=p, kind=Consent.Kind.FAMILY_ACCESS, related_person=person,
                                     scopes=scopes, granted_at=timezone.now() - timedelta(days=3))
    return user, consent
