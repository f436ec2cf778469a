"""The audit trail proves itself: keyed per-organization chains and signed checkpoints
outside the database catch every rewrite an attacker with database access can make."""

from __future__ import annotations

import hashlib
import importlib
import json
import threading
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, OperationalError, connection, connections, transaction
from django.utils.module_loading import import_string

from openiop.audit.checkpoints import audit_checkpoint_write, latest_checkpoint
from openiop.audit.models import AccessEvent
from openiop.audit.services import audit_record
from openiop.audit.verify import audit_verify, audit_verify_report
from openiop.audit.vocabulary import Action, ObjectType


def _events(world, n=5, participant=None):
    return [audit_record(actor=world.clinician, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
                         participant=participant or world.participant) for _ in range(n)]


def _sql(sql: str, params: list | None = None, *, replica: bool = True) -> None:
    """Write straight to the table, as someone holding the database (not the key) would.

    On PostgreSQL `session_replication_role = replica` switches the append-only triggers
    off (a superuser's power): exactly the tampering the chain and checkpoints must catch.
    """
    with connection.cursor() as cursor:
        if replica and connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params or [])
        finally:
            if replica and connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")


def _problems() -> list[str]:
    return [p.message for p in audit_verify_report().problems]


def test_each_organization_has_its_own_chain(world):
    mine = _events(world, 3)
    theirs = _events(world, 2, participant=world.outsider_participant)
    assert [e.chain_seq for e in mine] == [1, 2, 3]
    assert [e.chain_seq for e in theirs] == [1, 2]
    assert {e.chain for e in mine} == {world.org.pk}
    assert {e.chain for e in theirs} == {world.outsider_org.pk}
    assert theirs[0].prev_hash == "0" * 64 and mine[1].prev_hash == mine[0].hash
    # Installation-wide numbers keep increasing across chains.
    assert len({e.seq for e in mine + theirs}) == 5
    report = audit_verify_report()
    assert report.intact and report.events == 5 and set(report.chains) == {
        world.org.pk, world.outsider_org.pk}


def test_the_hash_is_keyed_with_a_key_outside_the_database(world, settings):
    events = _events(world, 2)
    body = json.dumps(events[1].payload(), sort_keys=True, separators=(",", ":"), default=str)
    # Not the plain SHA-256 anyone could recompute.
    assert events[1].hash != hashlib.sha256((events[1].prev_hash + body).encode()).hexdigest()
    assert audit_verify() is None
    settings.OPENIOP_AUDIT_KEY = "another-key-" + "z" * 40
    problem = audit_verify()
    assert problem is not None and problem.seq == events[0].seq and "altered" in problem.message


def test_editing_a_middle_row_and_recomputing_later_hashes_is_caught(world):
    events = _events(world, 5)
    _sql("UPDATE audit_accessevent SET reason = %s WHERE seq = %s", ["edited", events[2].seq])
    # The attacker recomputes every later link the way a plain hash chain would allow.
    prev = None
    for event in AccessEvent.objects.filter(chain=world.org.pk).order_by("chain_seq"):
        if event.chain_seq >= 3:
            event.prev_hash = prev
            body = json.dumps(event.payload(), sort_keys=True, separators=(",", ":"),
                              default=str)
            new_hash = hashlib.sha256((prev + body).encode()).hexdigest()
            _sql("UPDATE audit_accessevent SET prev_hash = %s, hash = %s WHERE id = %s",
                 [prev, new_hash, event.pk])
            event.hash = new_hash
        prev = event.hash
    problem = audit_verify()
    assert problem is not None and problem.seq == events[2].seq
    assert "altered" in problem.message


def test_a_rewrite_by_someone_who_has_the_key_is_caught_by_the_checkpoint(world):
    events = _events(world, 4)
    audit_checkpoint_write()
    _sql("UPDATE audit_accessevent SET reason = %s WHERE seq = %s", ["edited", events[1].seq])
    prev = events[0].hash
    for event in AccessEvent.objects.filter(chain=world.org.pk, chain_seq__gte=2).order_by(
            "chain_seq"):
        event.prev_hash = prev
        event.hash = event.compute_hash()  # with the real key
        _sql("UPDATE audit_accessevent SET prev_hash = %s, hash = %s WHERE id = %s",
             [event.prev_hash, event.hash, event.pk])
        prev = event.hash
    assert _problems() == [
        f"organization {world.org.pk}: the event at position 4 is not the one the checkpoint "
        f"of {latest_checkpoint().written_at} recorded (the chain was rewritten)"]


def test_deleting_the_newest_events_is_caught(world):
    events = _events(world, 5)
    audit_checkpoint_write()
    _sql("DELETE FROM audit_accessevent WHERE seq >= %s", [events[3].seq])
    problem = audit_verify()
    assert problem is not None and problem.seq is None
    assert "ends at position 3 (the newest events were deleted)" in problem.message
    with pytest.raises(CommandError, match="newest events were deleted"):
        call_command("audit_verify")


def test_deleting_the_tail_then_writing_new_events_is_caught(world):
    events = _events(world, 5)
    audit_checkpoint_write()
    _sql("DELETE FROM audit_accessevent WHERE seq >= %s", [events[3].seq])
    _events(world, 3)  # the chain grows again past the checkpoint's position
    assert any("the chain was rewritten" in m for m in _problems())


def test_deleting_every_row_is_caught(world):
    _events(world, 3)
    _events(world, 2, participant=world.outsider_participant)
    audit_checkpoint_write()
    _sql("DELETE FROM audit_accessevent")
    problems = _problems()
    assert len(problems) == 2
    assert f"organization {world.org.pk}: the checkpoint of" in problems[0]
    assert "recorded 3 events; none are left" in problems[0]


def test_truncating_the_table_is_caught(world):
    _events(world, 3)
    audit_checkpoint_write()
    if connection.vendor == "postgresql":
        _sql("SET CONSTRAINTS ALL IMMEDIATE", replica=False)  # as if in its own transaction
        _sql("TRUNCATE audit_accessevent")
    else:
        _sql("DELETE FROM audit_accessevent")  # SQLite's truncate
    problem = audit_verify()
    assert problem is not None and "none are left (rows deleted or the table truncated)" in (
        problem.message)


def test_replica_mode_then_deleting_the_tail_is_caught(world):
    if connection.vendor != "postgresql":
        pytest.skip("session_replication_role is PostgreSQL's")
    events = _events(world, 4)
    audit_checkpoint_write()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM audit_accessevent WHERE seq = %s", [events[-1].seq])
        cursor.execute("SET session_replication_role = DEFAULT")
    problem = audit_verify()
    assert problem is not None and "ends at position 3" in problem.message


def test_an_altered_or_foreign_checkpoint_is_reported(world, settings):
    _events(world, 2)
    path = audit_checkpoint_write()
    document = json.loads(path.read_text())
    document["chains"][0]["seq"] = 1
    document["chains"][0]["count"] = 1
    path.write_text(json.dumps(document))
    assert _problems() == [f"checkpoint {path.name} was altered: its signature does not match"]
    path.unlink()
    audit_checkpoint_write()
    settings.OPENIOP_AUDIT_KEY = "another-key-" + "z" * 40
    assert any("signed with a different OPENIOP_AUDIT_KEY" in m for m in _problems())


def test_a_checkpoint_records_each_chain_signed_outside_the_database(world, settings):
    _events(world, 3)
    last = _events(world, 1, participant=world.outsider_participant)[0]
    path = audit_checkpoint_write()
    assert path.parent == settings.OPENIOP_AUDIT_CHECKPOINT_DIR
    document = json.loads(path.read_text())
    assert settings.OPENIOP_AUDIT_KEY not in path.read_text()
    assert sorted((c["chain"], c["seq"], c["count"]) for c in document["chains"]) == sorted(
        [(world.org.pk, 3, 3), (world.outsider_org.pk, 1, 1)])
    assert {c["head"] for c in document["chains"]} >= {last.hash}
    assert len(document["signature"]) == 64
    # Later events are fine: the chain only has to extend what the checkpoint saw.
    _events(world, 2)
    assert audit_verify() is None


def test_the_checkpoint_task_runs_in_the_background_worker_list(world, settings):
    from openiop.audit import tasks

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    _events(world, 2)
    ((name, every, dotted),) = tasks.PERIODIC
    assert name == "audit-checkpoint" and every.total_seconds() == 3600
    result = import_string(dotted).enqueue()
    assert result.return_value.endswith(".json")
    checkpoint = latest_checkpoint()
    assert checkpoint is not None and not checkpoint.error
    assert checkpoint.chains[world.org.pk].seq == 2


def test_the_console_reports_the_checkpoint_it_compared_with(world, capsys):
    _events(world, 2)
    call_command("audit_checkpoint")
    assert "Audit checkpoint written:" in capsys.readouterr().out
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "Compared with the checkpoint of" in out and "2 events verified" in out


def _legacy_chain(world, rechain_module):
    """Three events as the previous version wrote them: one plain SHA-256 chain."""
    prev = "0" * 64
    for seq, participant in enumerate(
            [world.participant, world.outsider_participant, world.participant], start=1):
        event = AccessEvent(id=seq, seq=seq, chain=0, chain_seq=-seq, prev_hash=prev,
                            occurred_at=datetime(2026, 1, 5, 12, seq, tzinfo=UTC),
                            actor=world.clinician, actor_label="clin", action="view",
                            object_type="participant", participant=participant,
                            organization_id=participant.organization_id)
        event.hash = rechain_module._legacy_hash(event)
        event.save()
        prev = event.hash


def _editor():
    return SimpleNamespace(connection=connection,
                           execute=lambda sql: connection.cursor().execute(sql))


_RECHAIN = "openiop.audit.migrations.0004_rechain"


def test_existing_events_are_rechained_after_their_plain_chain_is_checked(world):
    """The upgrade (migration 0004) checks the old SHA-256 chain, then rechains with keys."""
    from django.apps import apps

    rechain_module = importlib.import_module(_RECHAIN)
    _legacy_chain(world, rechain_module)
    rechain_module.rechain(apps, _editor())
    rows = list(AccessEvent.objects.order_by("seq").values_list("chain", "chain_seq"))
    assert rows == [(world.org.pk, 1), (world.outsider_org.pk, 1), (world.org.pk, 2)]
    assert audit_verify() is None


def test_the_upgrade_stops_when_the_old_chain_is_already_broken(world):
    from django.apps import apps

    rechain_module = importlib.import_module(_RECHAIN)
    _legacy_chain(world, rechain_module)
    _sql("UPDATE audit_accessevent SET reason = 'edited' WHERE seq = 2")
    with pytest.raises(RuntimeError, match="broken at event #2"):
        rechain_module.rechain(apps, _editor())
    assert list(AccessEvent.objects.order_by("seq").values_list("chain_seq", flat=True)) == [
        -1, -2, -3]


@pytest.mark.postgres_only
def test_postgresql_refuses_truncate(world):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL trigger")
    _events(world, 2)
    with (pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic(),
          connection.cursor() as cursor):
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL openiop.allow_audit_truncate = 'off'")
        cursor.execute("TRUNCATE audit_accessevent")
    assert AccessEvent.objects.count() == 2


@pytest.mark.postgres_only
def test_the_application_role_may_only_insert_and_read_audit_events(world):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL roles")
    role = f"{connection.settings_dict['NAME']}_app"[:63]
    call_command("audit_app_role", role=role)
    events = _events(world, 2)
    refused = ["UPDATE audit_accessevent SET reason = 'x' WHERE seq = %s",
               "DELETE FROM audit_accessevent WHERE seq = %s",
               "TRUNCATE audit_accessevent"]
    for sql in refused:
        with (pytest.raises(DatabaseError, match="permission denied"), transaction.atomic(),
              connection.cursor() as cursor):
            cursor.execute(f'SET LOCAL ROLE "{role}"')
            # Not even with the truncate trigger out of the way.
            cursor.execute("SET LOCAL openiop.allow_audit_truncate = 'on'")
            cursor.execute(sql, [events[0].seq] if "%s" in sql else [])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{role}"')
        event = audit_record(actor=world.clinician, action=Action.VIEW,
                             object_type=ObjectType.PARTICIPANT, participant=world.participant)
        assert AccessEvent.objects.filter(chain=world.org.pk).count() == 3
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            cursor.execute("SET session_replication_role = replica")
    assert event.chain_seq == 3 and audit_verify() is None


@pytest.mark.postgres_only
def test_organizations_do_not_wait_for_each_other(world):
    """Appends take a lock on their own organization's chain only."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL advisory locks")
    from openiop.audit.services import _PG_LOCK_SPACE

    held, release = threading.Event(), threading.Event()

    def hold_lock_of(chain: int) -> None:
        with transaction.atomic(), connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_PG_LOCK_SPACE, chain])
            held.set()
            release.wait(10)
        connections.close_all()

    worker = threading.Thread(target=hold_lock_of, args=(world.org.pk,))
    worker.start()
    try:
        assert held.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        other = audit_record(actor=world.outsider, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
                             participant=world.outsider_participant)
        assert other.chain == world.outsider_org.pk
        with pytest.raises(OperationalError, match="lock timeout"):
            audit_record(actor=world.clinician, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
                         participant=world.participant)
    finally:
        release.set()
        worker.join()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")


def test_a_postgresql_installation_without_an_environment_key_is_warned(settings):
    from openiop.audit.apps import audit_key_check

    postgres = "django.db.backends.postgresql"
    settings.OPENIOP_AUDIT_KEY_FROM_ENV = False
    assert [m.id for m in audit_key_check(engine=postgres)] == ["openiop.audit.W001"]
    assert audit_key_check(engine="django.db.backends.sqlite3") == []
    settings.OPENIOP_AUDIT_KEY_FROM_ENV = True
    assert audit_key_check(engine=postgres) == []
