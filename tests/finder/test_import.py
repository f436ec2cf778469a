"""CSV import: row-level validation, locator codes, error report, idempotence, limits."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.finder.importer import validate_row
from openiop.finder.models import ImportRun, Listing
from openiop.finder.services import listing_import
from tests import factories as f
from tests.conftest import login

pytestmark = pytest.mark.django_db

HEADER = ("source_id,name,organization,address1,city,state,zip,phone,website,services,"
          "focus,schedule,hours_per_week,program_weeks,languages,insurers,openings,"
          "openings_updated\n")
GOOD = [
    'A1,Harbor Recovery IOP,Harbor Health,10 Main St,Columbus,OH,43215,(614) 555-0101,'
    'harbor.example.org,OIT MD MC PI ADLT SP BU TELE CFT,,evening;weekend,9-12,12,'
    'English;Somali,Aetna;Cigna,3,2026-11-01\n',
    'A2,Cedar Teen Program,,,Dublin,OH,43017,,,"OIT, CHLD, MD, CO",,afternoon,6,8,,,0,\n',
]
BAD = [
    'A3,No Zip Program,,,Columbus,OH,,,,OIT MD,mh,,,,,,,\n',
    'A4,Bad Values,,,Columbus,OH,43215,12345,not a url,OIT XYZ!,maybe,nights,30-9,,,,lots,\n',
]


def csv_bytes(*rows: str) -> bytes:
    return (HEADER + "".join(rows)).encode()


@pytest.fixture
def admin_user(world):
    return f.staff(world.org, Role.ADMIN, username="finderadmin")


def test_good_rows_import_and_locator_codes_fill_the_fields(admin_user):
    run = listing_import(actor=admin_user, source_name="locator", filename="a.csv",
                         raw=csv_bytes(*GOOD))
    assert (run.rows, run.created, run.rejected) == (2, 2, 0)
    harbor = Listing.objects.get(source_key="locator:A1")
    assert harbor.levels_of_care == ["IOP"]
    assert harbor.payment == ["medicaid", "medicare", "private"]
    assert harbor.populations == ["adults"]
    assert harbor.languages == ["English", "Somali", "Spanish"]
    assert harbor.moud == ["buprenorphine"] and harbor.focus == "su"
    assert harbor.therapies == ["family"] and harbor.telehealth
    assert harbor.schedule_options == ["evening", "weekend"]
    assert (harbor.hours_per_week_min, harbor.hours_per_week_max) == (9, 12)
    assert harbor.website == "https://harbor.example.org"
    assert harbor.latitude == pytest.approx(39.9671)
    assert harbor.openings == 3 and harbor.openings_updated_at.date().isoformat() == "2026-11-01"
    assert "|pay:medicaid|" in harbor.tags and "|lang:somali|" in harbor.tags
    cedar = Listing.objects.get(source_key="locator:A2")
    assert cedar.focus == "co" and cedar.populations == ["adolescents"]
    assert AccessEvent.objects.filter(object_type="finder.ImportRun",
                                      object_id=str(run.code)).exists()


def test_a_bad_row_never_aborts_the_good_ones_and_is_reported_by_line(admin_user):
    run = listing_import(actor=admin_user, source_name="locator", filename="mixed.csv",
                         raw=csv_bytes(GOOD[0], BAD[0], GOOD[1], BAD[1]))
    assert (run.created, run.rejected) == (2, 2)
    assert set(Listing.objects.values_list("source_key", flat=True)) == {"locator:A1",
                                                                          "locator:A2"}
    by_line: dict[int, list[str]] = {}
    for e in run.errors:
        by_line.setdefault(e["line"], []).append(e["message"])
    assert set(by_line) == {3, 5}
    assert any(m.startswith("zip: required") for m in by_line[3])
    messages = " ".join(by_line[5])
    for expected in ("phone:", "website:", "services: 'XYZ!'", "focus: 'maybe'",
                     "schedule: 'nights'", "hours_per_week:", "openings: 'lots'"):
        assert expected in messages, expected


def test_re_importing_the_same_file_changes_nothing(admin_user):
    raw = csv_bytes(*GOOD)
    listing_import(actor=admin_user, source_name="locator", filename="a.csv", raw=raw)
    before = {x.source_key: (x.pk, x.updated_at, x.content_hash) for x in Listing.objects.all()}
    again = listing_import(actor=admin_user, source_name="locator", filename="a.csv", raw=raw)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    after = {x.source_key: (x.pk, x.updated_at, x.content_hash) for x in Listing.objects.all()}
    assert after == before


def test_a_changed_row_updates_its_listing_in_place(admin_user):
    listing_import(actor=admin_user, source_name="locator", filename="a.csv",
                   raw=csv_bytes(*GOOD))
    pk = Listing.objects.get(source_key="locator:A2").pk
    changed = GOOD[1].replace(",0,\n", ",5,\n")
    run = listing_import(actor=admin_user, source_name="locator", filename="b.csv",
                         raw=csv_bytes(GOOD[0], changed))
    assert (run.created, run.updated, run.unchanged) == (0, 1, 1)
    cedar = Listing.objects.get(source_key="locator:A2")
    assert cedar.pk == pk and cedar.openings == 5 and cedar.openings_updated_at is not None


def test_a_duplicate_source_id_in_one_file_is_rejected(admin_user):
    run = listing_import(actor=admin_user, source_name="locator", filename="dup.csv",
                         raw=csv_bytes(GOOD[0], GOOD[0]))
    assert run.created == 1 and run.rejected == 1
    assert "already appears on line 2" in run.errors[0]["message"]


@pytest.mark.parametrize(("raw", "words"), [
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"", "empty"),
    (b"name,city\nX,Y\n", "Required column(s) missing"),
    (b"source_id,name,city,state,zip,zip\n", "named twice"),
])
def test_an_unreadable_file_is_refused_whole_and_nothing_is_written(admin_user, raw, words):
    with pytest.raises(ValidationError) as exc:
        listing_import(actor=admin_user, source_name="x", filename="bad.csv", raw=raw)
    assert words in str(exc.value)
    assert not Listing.objects.exists() and not ImportRun.objects.exists()


def test_oversized_files_and_too_many_rows_are_refused(admin_user, settings):
    settings.FINDER_IMPORT_MAX_BYTES = 200
    with pytest.raises(ValidationError, match="limit is"):
        listing_import(actor=admin_user, source_name="x", filename="big.csv",
                       raw=csv_bytes(*GOOD) * 3)
    settings.FINDER_IMPORT_MAX_BYTES = 10_000
    settings.FINDER_IMPORT_MAX_ROWS = 1
    with pytest.raises(ValidationError, match="the limit is 1 per import"):
        listing_import(actor=admin_user, source_name="x", filename="rows.csv",
                       raw=csv_bytes(*GOOD))
    assert not Listing.objects.exists()


def test_only_program_managers_may_import(world):
    from openiop.core.exceptions import NotPermitted

    with pytest.raises(NotPermitted):
        listing_import(actor=world.clinician, source_name="x", filename="a.csv",
                       raw=csv_bytes(*GOOD))


def test_upload_page_imports_in_the_background_and_links_the_report(admin_user, settings,
                                                                     run_worker):
    from openiop.jobs.models import Job

    client = login(admin_user)
    upload = SimpleUploadedFile("dir.csv", csv_bytes(GOOD[0], BAD[0]), "text/csv")
    response = client.post("/find/manage/import/", {"source_name": "web", "file": upload})
    job = Job.objects.get(kind="finder_import")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.code}/"
    assert not Listing.objects.exists()  # nothing imported inside the request
    run_worker()
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED and job.payload is None
    assert job.result["summary"] == "2 rows: 1 created, 0 updated, 0 unchanged, 1 rejected"
    page = client.get(f"/jobs/{job.code}/").content.decode()
    assert f'href="{job.result["url"]}"' in page and "Open the result" in page
    report = client.get(job.result["url"])
    assert b"No Zip Program" not in report.content and b"zip: required" in report.content
    errors_csv = client.get(job.result["url"] + "?format=csv")
    assert errors_csv["Content-Type"] == "text/csv"
    assert b"3,A3,zip: required." in errors_csv.content
    settings.FINDER_IMPORT_MAX_BYTES = 100
    big = SimpleUploadedFile("big.csv", csv_bytes(*GOOD), "text/csv")
    refused = client.post("/find/manage/import/", {"source_name": "web", "file": big})
    assert refused.status_code == 413
    assert b"limit is" in refused.content
    assert Listing.objects.count() == 1


def test_staff_pages_under_find_still_require_sign_in_and_the_second_factor(admin_user,
                                                                             settings, client):
    assert client.get("/find/manage/").status_code == 302
    settings.OPENIOP_REQUIRE_MFA = True
    response = login(admin_user).get("/find/manage/import/")
    assert response.status_code == 302 and "/mfa" in response["Location"]


def test_validate_row_accepts_asam_numbers_and_labels():
    result = validate_row(2, {"source_id": "x", "name": "N", "city": "C", "state": "oh",
                              "zip": "43215-1234", "levels_of_care": "2.1; Partial "
                              "hospitalization (ASAM 2.5)", "focus": "Mental health",
                              "payment": "Medicaid;sliding scale fee"})
    assert result.errors == []
    assert result.data["levels_of_care"] == ["IOP", "PHP"]
    assert result.data["payment"] == ["medicaid", "sliding_scale"]
    assert result.data["state"] == "OH" and result.data["zip_code"] == "43215"


def test_unknown_service_codes_are_kept_with_a_warning(admin_user):
    row = 'W1,Warned,,,Columbus,OH,43215,,,OIT MD ZZZ,mh,,,,,,,\n'
    run = listing_import(actor=admin_user, source_name="locator", filename="w.csv",
                         raw=csv_bytes(row))
    assert run.created == 1 and run.rejected == 0
    assert "unknown code ZZZ" in run.warnings[0]["message"]
    assert Listing.objects.get().locator_codes == ["OIT", "MD", "ZZZ"]


def test_a_large_import_reports_progress_in_rows(admin_user):
    rows = [f"R{i}" + GOOD[0][len("A1"):] for i in range(1200)]
    seen: list[str] = []
    run = listing_import(actor=admin_user, source_name="big", filename="big.csv",
                         raw=csv_bytes(*rows), progress=seen.append)
    assert run.created == 1200
    assert seen[:2] == ["500 of about 1201 rows checked", "1000 of about 1201 rows checked"]
    assert seen[-1].startswith("1200 rows: 1200 created")
