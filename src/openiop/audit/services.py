"""Writing the audit trail.

Call `audit_record` in the same transaction as the change it records; reads are
recorded by the selector or view that serves them, never by signals (docs/DEVELOPING.md).
Verification and checkpoints live in `verify.py` and `checkpoints.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core.http import client_ip

from .chain import GENESIS_HASH, chain_of
from .models import AccessEvent
from .vocabulary import Action, ObjectType

if TYPE_CHECKING:
    from openiop.organizations.models import Organization
    from openiop.participants.models import Participant
from .verify import ChainProblem, audit_verify

__all__ = ["ChainProblem", "audit_list_view", "audit_record", "audit_records", "audit_verify",
           "audit_views"]

# Any constant: the first key of the per-chain advisory locks on PostgreSQL.
_PG_LOCK_SPACE = 7_340_001


def _lock_chain(chain: int) -> None:
    """Serialize appends to one organization's chain (other chains proceed in parallel).

    SQLite needs nothing: its write transactions are already one at a time
    (transaction_mode IMMEDIATE in settings).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)",
                           [_PG_LOCK_SPACE, chain % 2_147_483_647])


def _next_seq() -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence('audit_accessevent', 'id'))")
            return int(cursor.fetchone()[0])
    top = AccessEvent.objects.aggregate(seq=Max("seq"), id=Max("id"))
    return max(top["seq"] or 0, top["id"] or 0) + 1


def audit_record(
    *,
    actor: object | None,
    action: Action,
    object_type: ObjectType,
    object_id: object = "",
    participant: Participant | None = None,
    organization: Organization | None = None,
    request: HttpRequest | None = None,
    reason: str = "",
    recipient: str = "",
    purpose: str = "",
) -> AccessEvent:
    """Append one event to its organization's chain. Side effect: one audit row.

    `action` and `object_type` are members of the audit vocabulary (a string, even a valid
    value, is refused with TypeError: see `_check_vocabulary`)."""
    _check_vocabulary(action=action, object_type=object_type)
    organization_id = _organization_id(organization, participant)
    actor_obj = actor if isinstance(actor, User) and actor.is_authenticated else None
    chain = chain_of(organization_id)
    with transaction.atomic():
        _lock_chain(chain)
        last = (AccessEvent.objects.filter(chain=chain).order_by("-chain_seq")
                .values("chain_seq", "hash").first())
        event = _linked_event(
            seq=_next_seq(), chain=chain, chain_seq=(last["chain_seq"] + 1) if last else 1,
            prev_hash=last["hash"] if last else GENESIS_HASH,
            occurred_at=timezone.now().astimezone(UTC), actor=actor_obj,
            organization_id=organization_id, participant=participant, action=action,
            object_type=object_type, object_id=object_id, request=request, reason=reason,
            recipient=recipient, purpose=purpose)
        event.save()
    return event


def _check_vocabulary(*, action: Action, object_type: ObjectType) -> None:
    """Refuse anything but members: a string would be a value no filter of the log and no
    accounting of disclosures knows (mypy catches it in typed modules; this, everywhere).
    A dynamic value is converted where it is made, e.g. `ObjectType(f"fhir.{name}")`, which
    raises ValueError for one that is no member."""
    if not isinstance(action, Action):
        raise TypeError(f"audit action must be an Action member, not {action!r}")
    if not isinstance(object_type, ObjectType):
        raise TypeError(f"audit object type must be an ObjectType member, not {object_type!r}")


def _linked_event(*, seq: int, chain: int, chain_seq: int, prev_hash: str, occurred_at: Any,
                  actor: User | None, organization_id: int | None,
                  participant: Participant | None, action: Action, object_type: ObjectType,
                  object_id: object, request: HttpRequest | None, reason: str = "",
                  recipient: str = "", purpose: str = "") -> AccessEvent:
    """One event, its fields cut to their columns and its link hash computed (not saved):
    the single place an event's stored form is decided, for one event or a batch."""
    event = AccessEvent(
        id=seq,
        seq=seq,
        chain=chain,
        chain_seq=chain_seq,
        occurred_at=occurred_at,
        actor=actor,
        actor_label=(getattr(actor, "username", "") or "anonymous")[:150],
        organization_id=organization_id,
        participant=participant,
        action=action.value,
        object_type=object_type.value[:60],
        object_id=str(object_id or "")[:64],
        path=(request.path[:300] if request is not None else ""),
        client_ip=client_ip(request),
        reason=reason[:500],
        recipient=recipient[:300],
        purpose=purpose[:40],
        prev_hash=prev_hash,
    )
    event.hash = event.compute_hash()
    return event


def _next_seqs(count: int) -> list[int]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence('audit_accessevent', 'id')) "
                           "FROM generate_series(1, %s)", [count])
            return sorted(int(row[0]) for row in cursor.fetchall())
    first = _next_seq()
    return list(range(first, first + count))


def audit_views(*, actor: object | None, participants: list[Participant],
                object_type: ObjectType, request: HttpRequest | None = None) -> list[AccessEvent]:
    """One `view` event per participant whose record a page or search showed, written
    together (`audit_records`)."""
    _check_vocabulary(action=Action.VIEW, object_type=object_type)
    return audit_records([
        {"actor": actor, "action": Action.VIEW, "object_type": object_type,
         "object_id": person.code, "participant": person, "request": request}
        for person in participants])


def audit_records(entries: list[dict[str, Any]]) -> list[AccessEvent]:
    """Several events at once, each given as the keyword arguments of `audit_record`: the
    same events, chained and hashed exactly as `audit_record` writes them one by one, but
    one lock and one read of the head per chain and one insert for the lot, so that a page
    of a hundred participants costs what a page of ten does (a FHIR search page of 100
    patients once wrote 100 events at about 6 queries each). Events of one chain keep their
    order in `entries`."""
    for entry in entries:
        _check_vocabulary(action=entry["action"], object_type=entry["object_type"])
    if not entries:
        return []
    events: list[AccessEvent] = []
    with transaction.atomic():
        by_chain: dict[int, list[tuple[int | None, dict[str, Any]]]] = {}
        for entry in entries:
            org_id = _organization_id(entry.get("organization"), entry.get("participant"))
            by_chain.setdefault(chain_of(org_id), []).append((org_id, entry))
        seqs = iter(_next_seqs(len(entries)))
        now = timezone.now().astimezone(UTC)
        for chain in sorted(by_chain):
            _lock_chain(chain)
            last = (AccessEvent.objects.filter(chain=chain).order_by("-chain_seq")
                    .values("chain_seq", "hash").first())
            chain_seq = last["chain_seq"] if last else 0
            prev = last["hash"] if last else GENESIS_HASH
            for org_id, entry in by_chain[chain]:
                chain_seq += 1
                actor = entry.get("actor")
                event = _linked_event(
                    seq=next(seqs), chain=chain, chain_seq=chain_seq, prev_hash=prev,
                    occurred_at=now,
                    actor=actor if isinstance(actor, User) and actor.is_authenticated else None,
                    organization_id=org_id, participant=entry.get("participant"),
                    action=entry["action"], object_type=entry["object_type"],
                    object_id=entry.get("object_id", ""), request=entry.get("request"),
                    reason=entry.get("reason", ""), recipient=entry.get("recipient", ""),
                    purpose=entry.get("purpose", ""))
                prev = event.hash
                events.append(event)
        with _sqlite_variable_limit():
            AccessEvent.objects.bulk_create(events)
    return events


def _organization_id(organization: Organization | None,
                     participant: Participant | None) -> int | None:
    if organization is None and participant is not None:
        return participant.organization_id
    return getattr(organization, "pk", None)


@contextmanager
def _sqlite_variable_limit() -> Iterator[None]:
    """Let one bulk insert use as many SQLite variables as this SQLite allows.

    Django 5.2 assumes SQLite's old compile-time default of 999 variables per statement
    and splits a bulk insert of audit events (19 columns) every 52 rows, so a page of 100
    wrote in two statements and a page of 10 in one. SQLite 3.32 raised the default to
    32766 (https://www.sqlite.org/limits.html#max_variable_number) and Python 3.11 reads
    the limit in force (sqlite3.Connection.getlimit); Django 6.0 reads it too
    (https://code.djangoproject.com/ticket/36143). PostgreSQL has no such split.
    """
    if connection.vendor != "sqlite":
        yield
        return
    import sqlite3

    connection.ensure_connection()
    features = connection.features
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    saved = features.__dict__.get("max_query_params")
    features.max_query_params = max(min(limit, 32766), 999)
    try:
        yield
    finally:
        if saved is None:
            del features.max_query_params
        else:
            features.max_query_params = saved


def audit_list_view(*, request: HttpRequest, object_type: ObjectType) -> AccessEvent:
    """One `view` event for a list or search page (not one per row shown): who looked,
    at which page, with which search and filters (the query string, kept as the reason)."""
    user = request.user
    profile = getattr(user, "staff_profile", None)
    return audit_record(actor=user, action=Action.VIEW, object_type=object_type,
                        organization=getattr(profile, "organization", None), request=request,
                        reason=request.META.get("QUERY_STRING", "")[:500])
