"""Break-the-glass grants: emergency access to a participant's clinical records.

HIPAA Security Rule, emergency access procedure (45 CFR 164.312(a)(2)(ii)): someone off
the care team may read the record in an emergency after giving a reason; the grant is kept
here (not in a browser session) so it is the same on every channel, can be reviewed by the
program director, expires after 60 minutes and can be revoked.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q


class BreakGlassGrantQuerySet(models.QuerySet):
    def active(self, now: datetime) -> BreakGlassGrantQuerySet:
        return self.filter(active_q(now))


def active_q(now: datetime, prefix: str = "") -> Q:
    return Q(**{f"{prefix}expires_at__gt": now, f"{prefix}revoked_at__isnull": True})


class BreakGlassGrant(models.Model):
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="break_glass_grants")
    participant = models.ForeignKey("participants.Participant", on_delete=models.CASCADE,
                                    related_name="break_glass_grants")
    reason = models.TextField(help_text="Why emergency access was needed (required).")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    objects = BreakGlassGrantQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["participant", "actor", "expires_at"]),
            models.Index(fields=["-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="break_glass_reason_required"),
        ]

    def __str__(self) -> str:
        return f"Emergency access to {self.participant_id} by {self.actor_id}"

    def is_active_at(self, when: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > when
