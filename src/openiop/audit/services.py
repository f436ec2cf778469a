"""Writing and verifying the audit trail.

Call `audit_record` in the same transaction as the change it records; reads are
recorded by the selector or view that serves them (STYLE.md practice 4).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.core.net import client_ip

from .models import GENESIS_HASH, AccessEvent, Action

# Any constant: the advisory lock that serializes appends on PostgreSQL.
_PG_CHAIN_LOCK = 7_340_001


def _client_ip(request: HttpRequest | None) -> str | None:
    # X-Forwarded-For is believed only from OPENIOP_TRUSTED_PROXIES (core/net.py).
    return client_ip(request)


def audit_record(
    *,
    actor: object | None,
    action: str,
    object_type: str,
    object_id: object = "",
    participant: object | None = None,
    organization: object | None = None,
    request: HttpRequest | None = None,
    reason: str = "",
) -> AccessEvent:
    """Append one event to the chain. Side effect: one row in audit_accessevent."""
    if action not in Action.values:
        raise ValueError(f"Unknown audit action {action!r}")
    if organization is None and participant is not None:
        organization_id = participant.organization_id
    else:
        organization_id = getattr(organization, "pk", None)
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_CHAIN_LOCK])
        last = AccessEvent.objects.order_by("-seq").values("seq", "hash").first()
        event = AccessEvent(
            seq=(last["seq"] + 1) if last else 1,
            occurred_at=timezone.now().astimezone(UTC),
            actor=actor_obj,
            actor_label=(getattr(actor_obj, "username", "") or "anonymous")[:150],
            organization_id=organization_id,
            participant=participant,
            action=action,
            object_type=object_type[:60],
            object_id=str(object_id or "")[:64],
            path=(request.path[:300] if request is not None else ""),
            client_ip=_client_ip(request),
            reason=reason[:500],
            prev_hash=last["hash"] if last else GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.save()
    return event


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    message: str


def audit_verify(*, progress: object | None = None) -> ChainProblem | None:
    """Walk the chain; return the first broken link, or None when intact."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for checked, event in enumerate(_events_in_order(), start=1):
        if event.seq != expected_seq:
            return ChainProblem(
                event.seq,
                f"events #{expected_seq} to #{event.seq - 1} are missing (deleted rows)",
            )
        if event.prev_hash != expected_prev:
            return ChainProblem(
                event.seq, f"event #{event.seq} does not link to event #{event.seq - 1}"
            )
        if event.compute_hash() != event.hash:
            return ChainProblem(event.seq, f"event #{event.seq} was altered after it was written")
        expected_prev = event.hash
        expected_seq += 1
        if progress is not None and checked % 10_000 == 0:
            progress(checked)
    return None


def _events_in_order() -> Iterator[AccessEvent]:
    return AccessEvent.objects.order_by("seq").iterator(chunk_size=5000)
