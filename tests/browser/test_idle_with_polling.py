"""The My work count polls in the background; that must not keep an unattended screen signed
in (idle logoff, HIPAA 45 CFR 164.312(a)(2)(iii))."""

from __future__ import annotations

from openiop.accounts.models import Role
from tests import factories as f
from tests.factories import PASSWORD

from .conftest import sign_in


def test_background_polling_does_not_count_as_activity(transactional_db, page, settings):
    settings.SESSION_COOKIE_AGE = 5  # the idle limit the page is given
    settings.OPENIOP_COUNT_POLL_SECONDS = 1  # polls several times within that limit
    org = f.organization(name="Idle Clinic")
    f.staff(org, Role.CLINICIAN, username="idler")
    sign_in(page, "idler", PASSWORD)
    assert page.url.endswith("/dashboard/")
    with page.expect_response(lambda r: r.url.endswith("/dashboard/count/")):
        pass  # the poll is running
    with page.expect_response(lambda r: r.url.endswith("/dashboard/count/")):
        pass  # and running again
    page.wait_for_url("**/accounts/login/**", timeout=15_000)
    assert page.get_by_text("You were signed out after").is_visible()
