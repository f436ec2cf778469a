"""The audit trail: written for views and changes, append-only, verifiable."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from openiop.audit.models import AccessEvent, AppendOnlyError
from openiop.audit.services import audit_record, audit_verify


def test_viewing_a_chart_writes_a_view_event(world, as_clinician):
    as_clinician.get(f"/participants/{world.participant.code}/")
    event = AccessEvent.objects.get(participant=world.participant, action="view")
    assert event.actor == world.clinician
    assert event.path == f"/participants/{world.participant.code}/"
    assert event.client_ip == "127.0.0.1"


def test_events_are_chained(world):
    a = audit_record(actor=world.clinician, action="view", object_type="participant",
                     participant=world.participant)
    b = audit_record(actor=world.clinician, action="change", object_type="participant",
                     participant=world.participant, reason="address")
    assert b.seq == a.seq + 1 and b.prev_hash == a.hash
    assert audit_verify() is None


def test_updates_and_deletes_are_refused_in_code(world):
    event = audit_record(actor=world.clinician, action="view", object_type="participant",
                         participant=world.participant)
    event.reason = "tamper"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.all().update(reason="x")
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.all().delete()


def _events(world, n=5):
    return [audit_record(actor=world.clinician, action="view", object_type="participant",
                         participant=world.participant) for _ in range(n)]


def _raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Only a superuser can switch triggers off: exactly the tampering we detect.
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_verify_catches_an_altered_row(world):
    events = _events(world)
    _raw("UPDATE audit_accessevent SET reason = %s WHERE seq = %s", ["edited", events[2].seq])
    problem = audit_verify()
    assert problem is not None and problem.seq == events[2].seq
    assert "altered" in problem.message
    with pytest.raises(CommandError, match=f"#{events[2].seq}"):
        call_command("audit_verify")


def test_verify_catches_a_deleted_row(world):
    events = _events(world)
    _raw("DELETE FROM audit_accessevent WHERE seq = %s", [events[1].seq])
    problem = audit_verify()
    assert problem is not None and problem.seq == events[2].seq
    assert "missing" in problem.message


def test_verify_command_reports_an_intact_chain(world, capsys):
    _events(world, 3)
    call_command("audit_verify")
    assert "Audit chain intact: 3 events verified." in capsys.readouterr().out


@pytest.mark.postgres_only
def test_postgresql_refuses_update_and_delete_itself(world):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL trigger")
    event = _events(world, 1)[0]
    from django.db.utils import DatabaseError

    for sql in ("UPDATE audit_accessevent SET reason = 'x' WHERE seq = %s",
                "DELETE FROM audit_accessevent WHERE seq = %s"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.seq])
    assert audit_verify() is None


def test_audit_page_is_for_auditors_of_the_same_organization(world, as_director, as_clinician):
    _events(world, 2)
    assert as_director.get("/audit/").status_code == 200
    assert as_clinician.get("/audit/").status_code == 404
