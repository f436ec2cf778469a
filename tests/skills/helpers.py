"""Small builders for curriculum tests (kept here, not in the shared factories)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from openiop.accounts.models import Role, User
from openiop.participants.models import Participant
from openiop.skills.models import Module, Rotation, RotationItem, SessionModule
from tests import factories as f


def portal_user(p: Participant, username: str | None = None) -> User:
    user = User.objects.create_user(username=username or f"pt-{p.mrn}", password=f.PASSWORD,
                                    role=Role.PARTICIPANT)
    p.user = user
    p.save(update_fields=["user"])
    return user


def modules(n: int = 3) -> list[Module]:
    return list(Module.objects.filter(audience="all").order_by("slug")[:n])


def rotation(program: Any, mods: list[Module], kind: str = "psychoeducation") -> Rotation:
    rot = Rotation.objects.create(program=program, kind=kind, name=kind.title())
    RotationItem.objects.bulk_create(
        [RotationItem(rotation=rot, module=m, position=i) for i, m in enumerate(mods, 1)])
    return rot


def delivered(program: Any, module: Module, *, start: datetime, kind: str = "psychoeducation",
              **kw: Any) -> Any:
    session = f.session(program, starts_at=start, minutes=60, kind=kind, title=module.title, **kw)
    SessionModule.objects.create(session=session, module=module)
    return session


def days_ago(n: float) -> datetime:
    return timezone.now().replace(microsecond=0) - timedelta(days=n)
