"""The audit trail: append-only, keyed hash chains of access events.

Every view, create, change, export and disclosure of a participant's record writes one
AccessEvent (HIPAA 45 CFR 164.312(b) audit controls; 164.312(c) integrity, with a keyed
hash as the mechanism to authenticate records). Each organization has its own chain; an
event's hash is an HMAC (key outside the database, see `chain.py`) over its own fields and
the previous event's hash, so altering or deleting a row breaks the chain, and signed
checkpoints written outside the database catch deleted tails (`openiop audit verify`).
"""

from __future__ import annotations

from django.db import models

from .chain import GENESIS_HASH, event_payload, link_hash
from .vocabulary import Action, ObjectType


class AppendOnlyError(Exception):
    """Audit events are never updated or deleted."""


class AccessEventQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise AppendOnlyError("Audit events are append-only: update refused.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only: delete refused.")


class AccessEvent(models.Model):
    # Installation-wide order (from the table's own sequence: may have gaps on rollback).
    seq = models.BigIntegerField(unique=True, editable=False)
    # The chain this event belongs to (organization id, 0 for platform events) and its
    # gapless position there.
    chain = models.BigIntegerField(default=0, editable=False)
    chain_seq = models.BigIntegerField(editable=False)
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
    # An ObjectType value (no choices here: the admin pages' family is open, and the
    # values are checked where events are written, in audit.services).
    object_type = models.CharField(max_length=60, editable=False)
    object_id = models.CharField(max_length=64, blank=True, editable=False)
    path = models.CharField(max_length=300, blank=True, editable=False)
    client_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    reason = models.CharField(max_length=500, blank=True, editable=False)
    # For a disclosure (or its refusal): to whom and why (42 CFR 2.24/2.25 accounting; the
    # structured recipient and coded purpose of participants.disclosure). Blank otherwise.
    recipient = models.CharField(max_length=300, blank=True, default="", editable=False)
    purpose = models.CharField(max_length=40, blank=True, default="", editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        constraints = [
            # Also the index `audit_record` reads a chain's head through.
            models.UniqueConstraint(fields=["chain", "chain_seq"], name="audit_chain_position"),
        ]
        indexes = [
            # The participant's access log tab and disclosure accounting.
            models.Index(fields=["participant", "-seq"], name="audit_participant_seq"),
            # The audit page filtered by organization and time.
            models.Index(fields=["organization", "-occurred_at"], name="audit_org_time"),
            # The audit page, paged by sequence number within the organization.
            models.Index(fields=["organization", "-seq"], name="audit_org_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.actor_label} {self.action} {self.object_type}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only: update refused.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only: delete refused.")

    def payload(self) -> dict[str, object]:
        """The fields the hash covers, in a stable form."""
        return event_payload(self)

    def compute_hash(self) -> str:
        return link_hash(self.chain, self.prev_hash, self.payload())


__all__ = ["GENESIS_HASH", "AccessEvent", "Action", "AppendOnlyError", "ObjectType"]
