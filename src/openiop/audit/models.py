"""The audit trail: append-only, hash-chained access events.

Every view, create, change, export and disclosure of a participant's record writes one
AccessEvent (HIPAA 45 CFR 164.312(b) audit controls; 164.312(c) integrity, with a hash as
the mechanism to authenticate records). Each event's hash covers its own fields and the
previous event's hash, so altering or deleting a row breaks the chain (`openiop audit verify`).
"""

from __future__ import annotations

import hashlib
import json

from django.db import models


class AppendOnlyError(Exception):
    """Audit events are never updated or deleted."""


class AccessEventQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise AppendOnlyError("Audit events are append-only: update refused.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only: delete refused.")


class Action(models.TextChoices):
    VIEW = "view", "Viewed"
    CREATE = "create", "Created"
    CHANGE = "change", "Changed"
    EXPORT = "export", "Exported"
    DISCLOSE = "disclose", "Disclosed"
    PRINT = "print", "Printed"
    BREAK_GLASS = "break_glass", "Emergency access"
    DENIED = "denied", "Access denied"
    SIGN = "sign", "Signed"


class AccessEvent(models.Model):
    seq = models.BigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(editable=False)
    actor = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    actor_label = models.CharField(max_length=150, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", null=True, on_delete=models.PROTECT, related_name="+"
    )
    participant = models.ForeignKey(
        "participants.Participant",
        null=True,
        on_delete=models.PROTECT,
        related_name="access_events",
        editable=False,
    )
    action = models.CharField(max_length=20, choices=Action.choices, editable=False)
    object_type = models.CharField(max_length=60, editable=False)
    object_id = models.CharField(max_length=64, blank=True, editable=False)
    path = models.CharField(max_length=300, blank=True, editable=False)
    client_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    reason = models.CharField(max_length=500, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        indexes = [
            # The participant's access log tab and disclosure accounting.
            models.Index(fields=["participant", "-seq"], name="audit_participant_seq"),
            # The audit page filtered by organization and time.
            models.Index(fields=["organization", "-occurred_at"], name="audit_org_time"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_label} {self.action} {self.object_type}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit events are append-only: update refused.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only: delete refused.")

    def payload(self) -> dict[str, object]:
        """The fields the hash covers, in a stable form."""
        return {
            "seq": self.seq,
            "occurred_at": self.occurred_at.isoformat(timespec="microseconds"),
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "organization": self.organization_id,
            "participant": self.participant_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "path": self.path,
            "client_ip": self.client_ip,
            "reason": self.reason,
        }

    def compute_hash(self) -> str:
        body = json.dumps(self.payload(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256((self.prev_hash + body).encode()).hexdigest()


GENESIS_HASH = "0" * 64
