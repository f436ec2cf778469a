"""Import review follow-ups: an impossible openings_updated date rejects only its row with
its line number; a ZIP code outside the row's state is rejected; the command prints
warnings; the public locator's own columns (name1, street1, ...) are a second format."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from openiop.accounts.models import Role
from openiop.finder.importer import validate_row
from openiop.finder.models import Listing
from openiop.finder.services import listing_import
from tests import factories as f

from .test_import import HEADER

pytestmark = pytest.mark.django_db

HARBOR = ('A1,Harbor Recovery IOP,Harbor Health,10 Main St,Columbus,OH,43215,(614) 555-0101,'
          'harbor.example.org,OIT MD ADLT,su,evening,9-12,12,,,3,2026-11-01\n')


@pytest.fixture
def admin_user(world):
    return f.staff(world.org, Role.ADMIN, username="finderadmin")


@pytest.mark.parametrize("stamp", ["2026-02-31", "2026-13-01T10:00:00", "yesterday"])
def test_an_impossible_openings_date_rejects_only_its_row_with_the_line(admin_user, stamp):
    bad = f'A2,Cedar IOP,,,Dublin,OH,43017,,,OIT MD,mh,,,,,,2,{stamp}\n'
    run = listing_import(actor=admin_user, source_name="dir", filename="a.csv",
                         raw=(HEADER + HARBOR + bad).encode())
    assert (run.rows, run.created, run.rejected) == (2, 1, 1)
    assert Listing.objects.filter(source_key="dir:A1").exists()
    [error] = run.errors
    assert error["line"] == 3 and error["source_id"] == "A2"
    assert error["message"] == f"openings_updated: {stamp!r} is not a date like 2026-11-02."


def test_a_zip_code_outside_the_state_is_rejected(admin_user):
    la = 'A5,Sunset IOP,,1 Sunset Blvd,Los Angeles,CA,43215,,,OIT MD,mh,,,,,,,\n'
    run = listing_import(actor=admin_user, source_name="dir", filename="a.csv",
                         raw=(HEADER + HARBOR + la).encode())
    assert (run.created, run.rejected) == (1, 1)
    assert not Listing.objects.filter(source_key="dir:A5").exists()
    [error] = run.errors
    assert error["line"] == 3
    assert error["message"].startswith("zip: 43215 is in Columbus, OH, not in CA")


def test_the_command_prints_rejections_and_warnings(admin_user, tmp_path):
    odd = 'A6,Maple IOP,,,Columbus,OH,43215,,,OIT MD ZZZ9,mh,,,,,,,\n'
    path = tmp_path / "listings.csv"
    path.write_text(HEADER + HARBOR + odd + 'A7,Bad,,,Columbus,CA,43215,,,OIT,mh,,,,,,,\n')
    out = io.StringIO()
    call_command("finder_import", str(path), "--source", "dir", stdout=out)
    text = out.getvalue()
    assert "line 4 (A7): zip: 43215 is in Columbus, OH, not in CA" in text
    assert "line 3 (A6): warning: services: unknown code ZZZ9 kept but not used for search." \
        in text


LOCATOR_HEADER = ("name1,name2,street1,street2,city,state,zip,phone,intake1,website,latitude,"
                  "longitude,miles,type_facility,services\n")
LOCATOR_ROWS = (
    'Harbor Recovery,Harbor Health Inc,10 Main St,Suite 2,Columbus,OH,43215-1234,'
    '(614) 555-0101,,harbor.example.org,39.9612,-82.9988,1.2,SA,OIT MD BU\n'
    'Lakeview Counseling,,22 Lake Rd,,Dublin,OH,43017,,,,,,,MH,OIT PI\n'
)


def test_the_locators_own_columns_are_accepted_and_mapped(admin_user):
    raw = (LOCATOR_HEADER + LOCATOR_ROWS).encode()
    run = listing_import(actor=admin_user, source_name="findtreatment", filename="ft.csv",
                         raw=raw)
    assert (run.rows, run.created, run.rejected) == (2, 2, 0), run.errors
    harbor = Listing.objects.get(name="Harbor Recovery")
    assert harbor.organization_name == "Harbor Health Inc"
    assert (harbor.address1, harbor.address2, harbor.zip_code) == ("10 Main St", "Suite 2",
                                                                   "43215")
    assert harbor.focus == "su" and harbor.levels_of_care == ["IOP"]
    assert harbor.latitude == pytest.approx(39.9612)
    assert harbor.source_key.startswith("findtreatment:loc-")
    assert Listing.objects.get(name="Lakeview Counseling").focus == "mh"
    # The derived ids are stable: the same export again changes nothing.
    again = listing_import(actor=admin_user, source_name="findtreatment", filename="ft.csv",
                           raw=raw)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_a_locator_file_without_its_required_columns_is_refused_by_name(admin_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        listing_import(actor=admin_user, source_name="ft", filename="ft.csv",
                       raw=b"name1,street1,city,state\nX,1 Main,Columbus,OH\n")
    assert "locator export" in " ".join(exc.value.messages)
    assert "zip" in " ".join(exc.value.messages)
    assert not Listing.objects.exists()


def test_validate_row_reads_the_facility_type_when_no_focus_is_given():
    row = {"source_id": "x", "name": "N", "city": "Columbus", "state": "OH", "zip": "43215",
           "type_facility": "SA/MH", "services": "OIT"}
    assert validate_row(2, row).data["focus"] == "co"
    odd = validate_row(2, row | {"type_facility": "XX", "focus": "mh"})
    assert odd.data["focus"] == "mh"
