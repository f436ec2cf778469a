"""FHIR Bulk Data $export: kick-off, status, manifest, NDJSON files, access and audit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.care.models import Program
from openiop.fhir.bulk import remove_expired_exports
from openiop.fhir.registry import SPECS
from openiop.intake.models import MeasureResponse
from openiop.jobs.models import Job
from openiop.participants import disclosure as dis
from openiop.participants.models import Participant
from tests import factories as f
from tests.conftest import login

from .test_smart import app, authorize, bearer  # noqa: F401  (app is a fixture)
from .test_validation import assert_valid

ASYNC = {"Accept": "application/fhir+json", "Prefer": "respond-async"}
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def exports(settings, tmp_path):
    settings.OPENIOP_EXPORT_DIR = tmp_path / "exports"
    settings.OPENIOP_EXPORT_HOURS = 24
    settings.TASKS = IMMEDIATE
    return settings.OPENIOP_EXPORT_DIR


def kick_off(client, url="/fhir/R4/$export", **params):
    response = client.get(url, params, headers=ASYNC)
    assert response.status_code == 202, response.content
    return response["Content-Location"]


def manifest(client, status_url):
    response = client.get(status_url)
    assert response.status_code == 200, response.content
    return response.json()


def download(client, manifest_json) -> dict[str, list[dict]]:
    files = {}
    for item in manifest_json["output"]:
        response = client.get(item["url"])
        assert response.status_code == 200
        assert response["Content-Type"] == "application/fhir+ndjson"
        body = b"".join(response.streaming_content).decode()
        files[item["type"]] = [json.loads(line) for line in body.splitlines()]
    return files


def search_total(client, rtype: str) -> int:
    response = client.get(f"/fhir/R4/{rtype}?_count=0")
    assert response.status_code == 200
    return response.json()["total"]


@pytest.mark.parametrize(("headers", "params", "field"), [
    ({"Accept": "application/fhir+json"}, {}, "Prefer"),
    ({"Prefer": "respond-async"}, {}, "Accept"),
    (ASYNC, {"_type": "Patient,Claim"}, "_type"),
    (ASYNC, {"_since": "last week"}, "_since"),
    (ASYNC, {"_since": "2026-01-05"}, "_since"),
    (ASYNC, {"_outputFormat": "text/csv"}, "_outputFormat"),
    (ASYNC, {"_elements": "id"}, None),
])
def test_kick_off_rejects_bad_requests(world, exports, as_clinician, headers, params, field):
    response = as_clinician.get("/fhir/R4/$export", params, headers=headers)
    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert response.json()["resourceType"] == "OperationOutcome"
    if field:
        assert issue["expression"] == [field]
    else:
        assert "_elements" in issue["diagnostics"]
    assert not Job.objects.exists()


def test_patient_level_export_excludes_types_outside_the_patient_compartment(
        world, exports, as_clinician):
    response = as_clinician.get("/fhir/R4/Patient/$export", {"_type": "Organization"},
                                headers=ASYNC)
    assert response.status_code == 400 and response.json()["issue"][0]["expression"] == ["_type"]


def test_full_export_matches_what_the_user_may_search(populated, world, exports, as_hie):
    withheld = populated
    status_url = kick_off(as_hie)
    result = manifest(as_hie, status_url)
    assert result["requiresAccessToken"] is True and result["error"] == []
    assert result["request"].endswith("/fhir/R4/$export")
    datetime.fromisoformat(result["transactionTime"])
    files = download(as_hie, result)
    expected = {name: search_total(as_hie, name) for name, spec in SPECS.items()
                if spec.permitted(world.clinician)}  # the token's user reads no Coverage
    assert "Condition" in expected and "Coverage" not in expected
    assert {name: len(lines) for name, lines in files.items()} == {
        name: total for name, total in expected.items() if total}
    assert {o["type"]: o["count"] for o in result["output"]} == {
        name: len(lines) for name, lines in files.items()}
    for name, lines in files.items():
        for resource in lines:
            assert resource["resourceType"] == name
            assert_valid(resource)
    patients = {r["id"] for r in files["Patient"]}
    assert str(world.participant.code) in patients
    assert str(withheld.code) not in patients  # Part 2, no consent
    consented = Participant.objects.get(legal_first_name="Casey")
    labelled = next(r for r in files["Patient"] if r["id"] == str(consented.code))
    assert "42CFRPart2" in {s["code"] for s in labelled["meta"]["security"]}


def test_an_export_from_a_staff_session_names_no_recipient_and_holds_no_part2_record(
        populated, world, exports, as_clinician):
    """The files are for taking away, and a session names no recipient a consent could
    match: both Part 2 participants stay out, the consented one too."""
    files = download(as_clinician, manifest(as_clinician, kick_off(as_clinician,
                                                                   _type="Patient")))
    patients = {r["id"] for r in files["Patient"]}
    assert str(world.participant.code) in patients
    for name in ("Casey", "Drew"):
        assert str(Participant.objects.get(legal_first_name=name).code) not in patients
    denied = AccessEvent.objects.get(action="denied", object_type="fhir.$export")
    assert denied.recipient.startswith("no named recipient") and denied.purpose == ""


def test_since_keeps_only_later_changes(populated, world, exports, as_hie):
    now = timezone.now()
    old = MeasureResponse.objects.order_by("pk").values_list("pk", flat=True)[:10]
    MeasureResponse.objects.filter(pk__in=list(old)).update(created_at=now - timedelta(days=10))
    cut = (now - timedelta(days=5)).astimezone(UTC).replace(microsecond=0)
    result = manifest(as_hie, kick_off(as_hie, _type="Observation",
                                             _since=cut.isoformat().replace("+00:00", "Z")))
    lines = download(as_hie, result)["Observation"]
    later = as_hie.get("/fhir/R4/Observation", {"_lastUpdated": f"gt{cut.isoformat()}",
                                                      "_count": 0}).json()["total"]
    assert len(lines) == later == search_total(as_hie, "Observation") - 10


def test_group_export_is_that_programs_participants_only(populated, world, exports,
                                                         as_hie):
    su = Program.objects.get(name="SU IOP")
    consented = Participant.objects.get(legal_first_name="Casey")
    result = manifest(as_hie, kick_off(as_hie, f"/fhir/R4/Group/{su.code}/$export"))
    files = download(as_hie, result)
    assert [r["id"] for r in files["Patient"]] == [str(consented.code)]  # Drew is withheld
    for lines in files.values():
        for resource in lines:
            ref = resource.get("subject", resource.get("patient", {})).get("reference")
            if resource["resourceType"] != "Patient" and ref:
                assert ref == f"Patient/{consented.code}"
    assert {o["type"] for o in result["output"]} <= {
        s.name for s in SPECS.values() if s.participant is not None}
    missing = as_hie.get(f"/fhir/R4/Group/{world.outsider_participant.code}/$export",
                               headers=ASYNC)
    assert missing.status_code == 404


def test_front_desk_gets_only_what_its_role_may_read(populated, world, exports):
    desk_user = f.staff(world.org, Role.FRONT_DESK, username="desk")
    desk = login(desk_user)
    refused = desk.get("/fhir/R4/$export", {"_type": "Observation"}, headers=ASYNC)
    assert refused.status_code == 403
    result = manifest(desk, kick_off(desk))
    readable = {s.name for s in SPECS.values() if s.permitted(desk_user)}
    assert "Observation" not in readable
    assert {o["type"] for o in result["output"]} == {
        name for name in readable if search_total(desk, name)}


def test_another_organization_sees_nothing_of_ours(populated, world, exports, as_clinician,
                                                   as_outsider):
    status_url = kick_off(as_clinician)
    ours = manifest(as_clinician, status_url)
    assert as_outsider.get(status_url).status_code == 404
    assert as_outsider.get(ours["output"][0]["url"]).status_code == 404
    theirs = download(as_outsider, manifest(as_outsider, kick_off(as_outsider)))
    assert [r["id"] for r in theirs["Patient"]] == [str(world.outsider_participant.code)]
    our_codes = {str(c) for c in Participant.objects.filter(organization=world.org)
                 .values_list("code", flat=True)}
    assert not our_codes & {r["id"] for lines in theirs.values() for r in lines}


def test_a_token_exports_only_its_scopes(mh, world, exports, app):  # noqa: F811
    tokens = authorize(login(world.clinician), app, "openid user/Patient.rs")
    api = bearer(tokens["access_token"])
    assert api.get("/fhir/R4/$export", {"_type": "Observation"},
                   headers=ASYNC).status_code == 403
    result = manifest(api, kick_off(api))
    assert [o["type"] for o in result["output"]] == ["Patient"]
    assert login(world.colleague).get(result["output"][0]["url"]).status_code == 404


def test_files_are_removed_after_expiry(mh, world, exports):
    # a fresh sign-in in each moment: the session itself times out after idle minutes
    start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        as_clinician = login(world.clinician)
        status_url = kick_off(as_clinician, _type="Patient")
        url = manifest(as_clinician, status_url)["output"][0]["url"]
        folder = exports / status_url.rsplit("/", 1)[1]
        assert (folder / "Patient.ndjson").is_file()
    with time_machine.travel(start + timedelta(hours=23), tick=False):
        assert remove_expired_exports() == 0
        assert login(world.clinician).get(url).status_code == 200
    with time_machine.travel(start + timedelta(hours=24, minutes=1), tick=False):
        assert login(world.clinician).get(status_url).status_code == 404
        assert remove_expired_exports() == 1
    assert not folder.exists()


def test_delete_cancels_a_queued_export_and_its_files(mh, world, exports, settings,
                                                      as_clinician, run_worker):
    settings.TASKS = DATABASE
    status_url = kick_off(as_clinician, _type="Patient")
    waiting = as_clinician.get(status_url)
    assert waiting.status_code == 202 and waiting["X-Progress"].startswith("0%")
    assert as_clinician.delete(status_url).status_code == 202
    run_worker()
    job = Job.objects.get()
    assert job.state == Job.State.FAILED and not job.result
    assert as_clinician.get(status_url).status_code == 404
    assert not (exports / str(job.code)).exists()
    assert remove_expired_exports() == 0


def test_delete_removes_a_finished_exports_files(mh, world, exports, as_clinician):
    status_url = kick_off(as_clinician, _type="Patient")
    url = manifest(as_clinician, status_url)["output"][0]["url"]
    assert as_clinician.delete(status_url).status_code == 202
    assert as_clinician.get(url).status_code == 404
    assert not any(exports.iterdir())


def test_a_worker_runs_the_export(populated, world, exports, settings, as_hie,
                                  run_worker):
    settings.TASKS = DATABASE
    status_url = kick_off(as_hie, _type="Patient,Observation")
    assert as_hie.get(status_url).status_code == 202
    run_worker()
    counts = {o["type"]: o["count"] for o in manifest(as_hie, status_url)["output"]}
    assert counts == {"Patient": search_total(as_hie, "Patient"),
                      "Observation": search_total(as_hie, "Observation")}


def test_every_export_is_audited_without_clinical_content(populated, world, exports,
                                                          as_hie, hie):
    result = manifest(as_hie, kick_off(as_hie, _type="Patient,Observation"))
    event = AccessEvent.objects.get(action="export", object_type="fhir.$export")
    assert event.actor == world.clinician
    for item in result["output"]:
        assert f"{item['type']} {item['count']}" in event.reason
    assert "Rivera" not in event.reason and "phq" not in event.reason.lower()
    consented = Participant.objects.get(legal_first_name="Casey")
    disclosed = AccessEvent.objects.filter(action="disclose", object_type="fhir.$export")
    assert [e.participant_id for e in disclosed] == [consented.pk]
    assert AccessEvent.objects.filter(action="denied", object_type="fhir.$export",
                                      reason__contains="withheld").count() == 1
    assert {(e.recipient, e.purpose) for e in AccessEvent.objects.filter(
        object_type="fhir.$export", action__in=("export", "disclose", "denied"))} == {
        (f"app #{hie.pk}: {hie.name}", "treatment")}


def test_status_polling_is_a_fixed_number_of_queries(populated, world, exports,
                                                     as_clinician):
    status_url = kick_off(as_clinician)
    as_clinician.get(status_url)
    with CaptureQueriesContext(connection) as queries:
        assert as_clinician.get(status_url).status_code == 200
    assert len(queries) <= 8, [q["sql"] for q in queries]


def test_the_capability_statement_lists_the_export_operations(db, client):
    statement = client.get("/fhir/R4/metadata").json()
    rest = statement["rest"][0]
    assert rest["operation"][0]["definition"].endswith("/OperationDefinition/export")
    by_type = {r["type"]: r for r in rest["resource"]}
    assert by_type["Patient"]["operation"][0]["definition"].endswith("/patient-export")
    assert by_type["Group"]["operation"][0]["definition"].endswith("/group-export")


def test_the_export_job_runs_a_fixed_number_of_queries(populated, world, exports,
                                                       as_clinician):
    def queries_for_export() -> int:
        with CaptureQueriesContext(connection) as queries:
            kick_off(as_clinician)
        return len(queries)

    before = queries_for_export()
    more = [f.participant(world.org, legal_first_name=f"Extra{i}") for i in range(4)]
    for p in more:
        f.episode(p, world.program, therapist=world.colleague)
        MeasureResponse.objects.create(participant=p, instrument="phq9", answers={"q1": 1},
                                       total=5, band="mild", completed_at=timezone.now())
    assert queries_for_export() == before


def test_a_failed_export_answers_an_operation_outcome(mh, world, exports, as_clinician,
                                                      monkeypatch):
    from openiop.fhir import engine

    def broken(spec, row):
        raise RuntimeError("mapper broke")

    monkeypatch.setattr(engine, "render", broken)
    response = as_clinician.get(kick_off(as_clinician, _type="Patient"))
    assert response.status_code == 500
    issue = response.json()["issue"][0]
    assert issue["code"] == "exception" and "mapper broke" not in issue["diagnostics"]
    assert Job.objects.get().state == Job.State.FAILED
    assert not AccessEvent.objects.filter(action="export").exists()


def test_a_token_may_kick_off_with_post_and_a_parameters_body(populated, world, exports,
                                                               as_hie, as_clinician):
    """Bulk Data 2.0 lets servers take a POST kick-off with a Parameters resource; the
    parameters mean what they mean in a GET, and a body and URL parameters together, a
    malformed body, or a POST from a browser session are refused."""
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "_type", "valueString": "Patient"},
        {"name": "_outputFormat", "valueString": "application/fhir+ndjson"}]}
    started = as_hie.post("/fhir/R4/$export", json.dumps(body),
                          content_type="application/fhir+json", headers=ASYNC)
    assert started.status_code == 202, started.content
    done = manifest(as_hie, started["Content-Location"])
    assert [o["type"] for o in done["output"]] == ["Patient"]
    assert done["output"][0]["count"] == search_total(as_hie, "Patient")
    in_url = as_hie.post("/fhir/R4/$export?_type=Patient", headers=ASYNC)  # empty body
    assert in_url.status_code == 202, in_url.content
    for url, payload, expected in [
        ("/fhir/R4/$export?_type=Patient", json.dumps(body), "either in the URL"),
        ("/fhir/R4/$export", "{not json", "Parameters resource"),
        ("/fhir/R4/$export", json.dumps({"resourceType": "Patient"}), "Parameters resource"),
        ("/fhir/R4/$export", json.dumps({"resourceType": "Parameters", "parameter": [
            {"name": "_type"}]}), "one string"),
        ("/fhir/R4/$export", json.dumps({"resourceType": "Parameters", "parameter": [
            {"name": "_since", "valueString": "last week"}]}), "_since"),
    ]:
        refused = as_hie.post(url, payload, content_type="application/fhir+json",
                              headers=ASYNC)
        assert refused.status_code == 400, (url, payload, refused.content)
        assert expected in refused.json()["issue"][0]["diagnostics"]
    form = as_hie.post("/fhir/R4/$export", {"_type": "Patient"}, headers=ASYNC)
    assert form.status_code == 400 and "not as a form" in form.content.decode()
    session = as_clinician.post("/fhir/R4/$export", headers=ASYNC)
    assert session.status_code == 405 and "bearer token" in session.content.decode()


@pytest.mark.parametrize("notice", ["full", "abbreviated"])
def test_the_manifest_carries_the_part2_notice_and_each_consents_scope(
        populated, world, exports, as_hie, notice):
    """42 CFR 2.32(a) and (b): records disclosed under a consent go with the notice and an
    explanation of the consent's scope. A bulk client reads the files through the manifest:
    its `extension` carries the notice the program chose and, per consent, the same scope
    statement a FHIR read sends in X-Part2-Consent-Scope, with the counts it covered."""
    world.org.part2_notice = notice
    world.org.save(update_fields=["part2_notice"])
    result = manifest(as_hie, kick_off(as_hie))
    files = download(as_hie, result)
    labelled = [r for lines in files.values() for r in lines
                if "42CFRPart2" in {s["code"] for s in r.get("meta", {}).get("security", [])}]
    assert labelled  # the consented participant's records are in the files
    consented = Participant.objects.get(legal_first_name="Casey")
    (consent,) = consented.consents.filter(kind="part2_tpo")
    read = as_hie.get(f"/fhir/R4/Patient/{consented.code}")
    assert read.status_code == 200
    assert result["extension"] == {"42CFRPart2": {
        "notice": dis.NOTICES[notice],
        "consents": [{"consent": f"Consent/{consent.code}",
                      "scope": read["X-Part2-Consent-Scope"],
                      "participants": 1, "resources": len(labelled)}],
    }}
    assert read["X-Part2-Consent-Scope"] == dis.consent_scope(consent)
    # The job keeps counts and consent ids for the manifest, never the records.
    job = Job.objects.get(kind="fhir_export")
    assert set(job.result) == {"transactionTime", "request", "output", "withheld", "part2"}
    assert "Casey" not in json.dumps(job.result) and str(consented.code) not in json.dumps(
        job.result)


def test_the_manifest_has_no_part2_statement_when_no_part2_record_is_exported(
        populated, world, exports, as_clinician, as_hie):
    """A staff session's export holds no Part 2 record (no recipient a consent could name);
    nor does the app's once the consent is revoked: no statement then."""
    from_session = manifest(as_clinician, kick_off(as_clinician))
    assert from_session["output"] and "extension" not in from_session
    consented = Participant.objects.get(legal_first_name="Casey")
    consented.consents.filter(kind="part2_tpo").update(revoked_at=timezone.now())
    from_token = manifest(as_hie, kick_off(as_hie))
    patients = {r["id"] for r in download(as_hie, from_token)["Patient"]}
    assert str(world.participant.code) in patients and str(consented.code) not in patients
    assert "extension" not in from_token
def test_the_files_hold_the_searchs_resources_byte_for_byte(populated, world, exports,
                                                            as_hie):
    """Each NDJSON line is the resource a search returns (fully validated there), written
    compactly: same keys in the same order, same values."""
    files = {}
    for item in manifest(as_hie, kick_off(as_hie))["output"]:
        response = as_hie.get(item["url"])
        files[item["type"]] = b"".join(response.streaming_content).decode().splitlines()
    assert "Patient" in files and "MedicationRequest" in files
    for name, lines in files.items():
        searched = as_hie.get(f"/fhir/R4/{name}?_count=1000").json()
        by_id = {e["resource"]["id"]: e["resource"] for e in searched["entry"]}
        assert len(by_id) == len(lines), name
        for line in lines:
            resource = json.loads(line)
            assert line == json.dumps(by_id[resource["id"]], separators=(",", ":")), name


def _grow(world, n: int, start) -> None:
    """`n` more mental-health participants with a record of every kind."""
    from decimal import Decimal

    from openiop.billing.models import Coverage, Diagnosis, Payer
    from openiop.medications.models import MedicationOrder
    from openiop.participants.models import Consent

    payer = Payer.objects.filter(organization=world.org).first()
    for i in range(n):
        p = f.participant(world.org, legal_first_name=f"Grow{i:03d}", legal_last_name="Clinic")
        f.episode(p, world.program, therapist=world.colleague)
        booking = f.booking(f.session(world.program, starts_at=start + timedelta(days=i)), p)
        f.attendance(booking, "present", minutes=60)
        MeasureResponse.objects.create(participant=p, instrument="phq9", answers={"q1": 1},
                                       total=5, band="mild", completed_at=start)
        MedicationOrder.objects.create(
            participant=p, name="Sertraline", catalog_key="sertraline", dose=Decimal("50"),
            unit="mg", route="oral", frequency="daily", start_date=start.date(),
            prescriber=world.clinician)
        Consent.objects.create(participant=p, kind=Consent.Kind.RELEASE, recipient="PCP")
        Diagnosis.objects.create(participant=p, icd_code="F33.1", billable=True,
                                 description="Major depressive disorder",
                                 code_set_version="ICD-10-CM FY2026",
                                 recorded_by=world.clinician, onset_on=start.date())
        Coverage.objects.create(participant=p, payer=payer, member_id=f"G{i:04d}",
                                relationship="18", effective_on=start.date())


@pytest.mark.parametrize("who", ["app", "staff session"])
def test_the_export_runs_the_same_queries_whatever_the_clinics_size(
        populated, world, exports, as_hie, as_director, monkeypatch, who):
    """Reading a few rows at a time (a chunk of 4 here, so that both clinics span many
    chunks), the job runs as many queries for a clinic twice the size, with every record
    kind: no query a participant, a resource or a chunk. The app's export holds the Part 2
    records of its consented participant (one `disclose` event) at both sizes."""
    monkeypatch.setattr("openiop.fhir.bulk.CHUNK", 4)
    client = as_hie if who == "app" else as_director

    def export() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            status_url = kick_off(client)
        return len(queries), sum(o["count"] for o in manifest(client, status_url)["output"])

    _grow(world, 5, datetime(2026, 1, 5, 23, 0, tzinfo=UTC))
    small, small_count = export()
    _grow(world, 30, datetime(2026, 2, 5, 23, 0, tzinfo=UTC))
    large, large_count = export()
    assert large_count > small_count + 30 * 6  # every kind grew
    assert large == small



@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="how PostgreSQL plans the export's queries")
def test_the_export_reads_in_the_querys_join_order_without_jit(populated, world, exports,
                                                                as_director):
    """Issue #16: on PostgreSQL the export was ~7x slower a resource than on SQLite, and
    slower per resource the larger the clinic. The Appointment and Encounter queries
    restrict both the participant's and the session program's organization to the same
    constant, and the planner considers joining relations restricted by one constant with
    no join clause: at 1,000 participants it joined every participant to every session
    (6.3 million rows) before finding the 41,000 bookings, and with statistics it also
    JIT-compiled each large query for 2-3 s to run it in 0.5 s. Every query that reads a
    resource type must therefore run planned in its own join order (the type's table
    first, then its to-one relations) and without JIT, even where its cost estimate would
    call for JIT (as a large clinic's do; here forced with jit_above_cost = 0)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_jit_available()")
        jit_available = cursor.fetchone()[0]
        cursor.execute("SET LOCAL jit_above_cost = 0")
    reads: list[tuple[str, str, bool]] = []
    explaining = False

    def explain(execute, sql, params, many, context):
        nonlocal explaining
        if not explaining and '"fhir_updated"' in sql:  # a resource type's rows
            explaining = True
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT current_setting('join_collapse_limit')")
                    order = cursor.fetchone()[0]
                    cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
                    (plan,) = cursor.fetchone()[0]
            finally:
                explaining = False
            reads.append((sql, order, "JIT" in plan))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain):
        status_url = kick_off(as_director)
    types = {o["type"] for o in manifest(as_director, status_url)["output"]}
    assert {"Appointment", "Encounter", "Patient"} <= types
    assert len(reads) >= len(types)
    for sql, order, jit in reads:
        assert order == "1", sql
        assert not (jit_available and jit), sql
