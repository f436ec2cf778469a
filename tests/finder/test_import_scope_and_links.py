"""Import runs belong to the importing organization; the rejected-rows CSV cannot carry a
spreadsheet formula; the finder's "Back" link only goes to a path on this site."""

from __future__ import annotations

import pytest

from openiop.accounts.models import Role
from openiop.finder.services import listing_import
from tests import factories as f
from tests.conftest import login

from .conftest import make_listing
from .test_import import BAD, GOOD, csv_bytes

pytestmark = pytest.mark.django_db


def test_another_organizations_director_cannot_see_an_import_run(world):
    importer = f.staff(world.org, Role.ADMIN, username="finderadmin")
    run = listing_import(actor=importer, source_name="web", filename="dir.csv",
                         raw=csv_bytes(GOOD[0], BAD[0]))
    theirs = login(f.staff(world.outsider_org, Role.ADMIN, username="otheradmin"))
    manage = theirs.get("/find/manage/").content.decode()
    assert str(run.code) not in manage and "dir.csv" not in manage
    assert theirs.get(f"/find/manage/import/{run.code}/").status_code == 404
    assert theirs.get(f"/find/manage/import/{run.code}/?format=csv").status_code == 404
    mine = login(importer)
    assert str(run.code) in mine.get("/find/manage/").content.decode()
    assert mine.get(f"/find/manage/import/{run.code}/").status_code == 200


def test_the_rejected_rows_csv_writes_formulas_as_text(world):
    importer = f.staff(world.org, Role.ADMIN, username="finderadmin")
    formula_row = BAD[0].replace("A3,", '"=HYPERLINK(""http://x.example"")",', 1)
    run = listing_import(actor=importer, source_name="web", filename="dir.csv",
                         raw=csv_bytes(formula_row))
    body = login(importer).get(f"/find/manage/import/{run.code}/?format=csv").content.decode()
    line = body.splitlines()[1]
    assert "'=HYPERLINK" in line and ",=HYPERLINK" not in line


@pytest.mark.parametrize(("back", "shown"), [
    ("/find/?zip=43215", True),
    ("https://evil.example/phish", False),
    ("//evil.example/phish", False),
    ("/\\evil.example", False),
    ("javascript:alert(1)", False),
])
def test_compare_only_links_back_to_a_local_path(client, back, shown):
    a, b = make_listing(), make_listing()
    page = client.get("/find/compare/", {"id": [a.code, b.code], "back": back}).content.decode()
    assert (f'href="{back}"'.replace("&", "&amp;") in page) is shown
    if not shown:
        assert "evil.example" not in page and "javascript:" not in page
        assert 'href="/find/"' in page
