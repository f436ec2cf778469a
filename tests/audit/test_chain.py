"""The audit trail: written for views and changes, append-only, verifiable."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from openiop.audit.models import AccessEvent, AppendOnlyError
from openiop.audit.services import audit_record, audit_verify
from openiop.audit.vocabulary import Action, ObjectType


def test_viewing_a_chart_writes_a_view_event(world, as_clinician):
    as_clinician.get(f"/participants/{world.participant.code}/")
    event = AccessEvent.objects.get(participant=world.participant, action="view")
    assert event.actor == world.clinician
    assert event.path == f"/participants/{world.participant.code}/"
    assert event.client_ip == "127.0.0.1"


def test_events_are_chained(world):
    a = audit_record(actor=world.clinician, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
                     participant=world.participant)
    b = audit_record(actor=world.clinician, action=Action.CHANGE, object_type=ObjectType.PARTICIPANT,
                     participant=world.participant, reason="address")
    assert b.seq == a.seq + 1 and b.prev_hash == a.hash
    assert audit_verify() is None


def test_updates_and_deletes_are_refused_in_code(world):
    event = audit_record(actor=world.clinician, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
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
    return [audit_record(actor=world.clinician, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
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


def test_the_console_command_reports_a_broken_chain(world, capsys):
    """`openiop audit verify` (the console entry point) exits non-zero naming the row."""
    from unittest import mock

    from django.db import connections

    from openiop.cli import main

    events = _events(world, 4)
    # The console runner closes connections when it ends; the test database must stay open.
    keep_open = mock.patch.object(connections, "close_all")
    with keep_open:
        main(["audit", "verify"])
    assert "Audit chain intact: 4 events verified." in capsys.readouterr().out
    _raw("UPDATE audit_accessevent SET actor_label = %s WHERE seq = %s",
         ["someone-else", events[1].seq])
    with keep_open, pytest.raises(SystemExit) as exit_info:
        main(["audit", "verify"])
    assert exit_info.value.code != 0
    assert f"BROKEN at event #{events[1].seq}" in capsys.readouterr().err


def test_change_and_create_events_carry_who_what_and_where(world, as_clinician):
    as_clinician.post("/participants/new/", {
        "mrn": "AUD-1", "legal_first_name": "Kai", "legal_last_name": "Moss",
        "date_of_birth": "1991-02-03", "preferred_language": "English"})
    event = AccessEvent.objects.get(action="create")
    assert event.actor == world.clinician and event.organization_id == world.org.pk
    assert event.participant.mrn == "AUD-1" and event.path == "/participants/new/"
    assert event.client_ip == "127.0.0.1"
    assert audit_verify() is None


def test_the_audit_page_filters_events(world, as_director):
    audit_record(actor=world.clinician, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
                 participant=world.participant)
    audit_record(actor=world.director, action=Action.EXPORT, object_type=ObjectType.PARTICIPANT,
                 participant=world.participant)
    audit_record(actor=world.outsider, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
                 participant=world.outsider_participant)
    page = as_director.get("/audit/", {"action": "export"}).content.decode()
    assert "Exported" in page and "clin" not in page.split("<tbody")[1]
    page = as_director.get("/audit/", {"staff": world.clinician.pk}).content.decode()
    rows = page.split("<tbody")[1]
    assert world.clinician.get_full_name() in rows and "Exported" not in rows
    # Another organization's events never appear.
    assert "outsider" not in as_director.get("/audit/").content.decode().split("<tbody")[1]


def test_the_django_admin_lists_events_read_only(world):
    from tests.conftest import login

    audit_record(actor=world.clinician, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
                 participant=world.participant)
    world.director.is_staff = world.director.is_superuser = True
    world.director.save()
    client = login(world.director)
    listing = client.get("/admin/audit/accessevent/?action__exact=view")
    assert listing.status_code == 200 and b"clin" in listing.content
    # The operator's read is itself audited (platform chain).
    assert AccessEvent.objects.filter(actor=world.director, chain=0,
                                      object_type="admin:audit_accessevent_changelist").exists()
    event = AccessEvent.objects.get(actor=world.clinician)
    # Refused (the app answers 404 for anything not permitted, so nothing leaks).
    assert client.post(f"/admin/audit/accessevent/{event.pk}/delete/", {"post": "yes"}
                       ).status_code in (403, 404)
    assert AccessEvent.objects.filter(pk=event.pk).exists()


def test_an_event_written_before_recipient_and_purpose_existed_still_verifies(world):
    """The payload has the optional fields only when they are set: an event without them
    hashes exactly as events were hashed before the fields were added."""
    from openiop.audit.chain import link_hash

    old_style = audit_record(actor=world.clinician, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
                             participant=world.participant, reason="r")
    old_fields = ("seq", "chain", "chain_seq", "occurred_at", "actor", "actor_label",
                  "organization", "participant", "action", "object_type", "object_id", "path",
                  "client_ip", "reason")
    payload = old_style.payload()
    assert tuple(payload) == old_fields
    assert old_style.hash == link_hash(old_style.chain, old_style.prev_hash, payload)
    disclosed = audit_record(actor=world.clinician, action=Action.DISCLOSE, object_type=ObjectType.PARTICIPANT,
                             participant=world.participant, recipient="organization: Harbor",
                             purpose="treatment")
    assert disclosed.payload()["recipient"] == "organization: Harbor"
    assert audit_verify() is None
    _raw("UPDATE audit_accessevent SET recipient = %s WHERE id = %s", ["app #9: X",
                                                                        disclosed.pk])
    assert audit_verify() is not None  # the recipient is covered by the hash


def test_views_written_together_chain_exactly_as_one_by_one(world, django_assert_max_num_queries):
    from openiop.audit.services import audit_views
    from tests import factories as f

    other_org = f.organization(name="Other clinic")
    people = [world.participant, *(f.participant(world.org) for _ in range(4)),
              *(f.participant(other_org) for _ in range(2))]
    before = audit_record(actor=world.clinician, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
                          participant=world.participant)
    # One lock and one head read per chain, one insert for all: not six queries per event.
    with django_assert_max_num_queries(12):
        events = audit_views(actor=world.clinician, participants=people,
                             object_type=ObjectType.FHIR_PATIENT)
    after = audit_record(actor=world.clinician, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
                         participant=world.participant)
    assert sorted(e.participant_id for e in events) == sorted(p.pk for p in people)
    stored = list(AccessEvent.objects.filter(object_type="fhir.Patient").order_by("seq"))
    assert [(e.seq, e.hash) for e in stored] == sorted((e.seq, e.hash) for e in events)
    assert all(e.action == "view" and e.actor == world.clinician
               and e.object_id == str(e.participant.code) for e in stored)
    same_chain = sorted((e for e in events if e.chain == before.chain), key=lambda e: e.chain_seq)
    assert same_chain[0].prev_hash == before.hash and after.prev_hash == same_chain[-1].hash
    assert len({e.chain for e in events}) == 2  # two organizations, two chains
    assert audit_verify() is None
    assert audit_views(actor=world.clinician, participants=[], object_type=ObjectType.PARTICIPANT) == []


def test_records_of_any_kind_are_written_together_in_the_same_queries_for_10_and_150(world):
    # A FHIR search writes the `disclose`, `denied` and `view` events of its page in one
    # batch; 150 events (more than Django's 999-variable split on SQLite would put in one
    # statement) cost what 10 do.
    from django.test.utils import CaptureQueriesContext

    from openiop.audit.services import audit_records
    from tests import factories as f

    people = [world.participant, *(f.participant(world.org) for _ in range(4))]

    def entries(n):
        return [{"actor": world.clinician, "action": (Action.DISCLOSE, Action.DENIED, Action.VIEW)[i % 3],
                 "object_type": ObjectType.FHIR_OBSERVATION, "object_id": people[i % 5].code,
                 "participant": people[i % 5], "recipient": "app #1: Test",
                 "purpose": "treatment", "reason": f"event {i}"} for i in range(n)]

    with CaptureQueriesContext(connection) as few:
        small = audit_records(entries(10))
    with CaptureQueriesContext(connection) as many:
        large = audit_records(entries(150))
    assert len(many) == len(few)
    stored = list(AccessEvent.objects.filter(object_type="fhir.Observation").order_by("seq"))
    assert [(e.seq, e.hash) for e in stored] == [(e.seq, e.hash) for e in small + large]
    assert [e.reason for e in stored] == [f"event {i}" for i in range(10)] + [
        f"event {i}" for i in range(150)]
    assert {e.recipient for e in stored} == {"app #1: Test"}
    assert audit_verify() is None
    with pytest.raises(TypeError):  # a string, even a known action, is refused
        audit_records([{"action": "view", "object_type": ObjectType.FHIR_OBSERVATION}])
