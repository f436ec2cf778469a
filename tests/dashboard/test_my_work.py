"""My work: per role, most urgent first, one click from the action, bounded and fast."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.care.models import EpisodeOfCare
from openiop.dashboard import worklist
from tests.conftest import login
from tests.dashboard.conftest import TODAY, add_caseload_person


def _sections(html: str) -> list[str]:
    return re.findall(r'<h2 id="sec-([a-z_]+)"', html)


def _page(user):
    response = login(user).get("/dashboard/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_clinician_sees_safety_first_then_notes_reviews_screens_and_hours(work):
    html = _page(work.world.clinician)
    assert _sections(html) == ["safety", "notes_to_sign", "notes_to_write", "plan_reviews",
                               "drug_screens", "weekly_minimum"]
    task = work.world.participant.organization.safety_tasks.get(participant__legal_first_name="Casey1")
    assert f'href="/dashboard/safety-tasks/{task.code}/"' in html and "Acknowledge" in html
    assert "Casey1 Worklist1" in html
    assert "Write the group note: Process group 1, Mon Mar 2" in html
    assert "21 h overdue" in html
    assert "Co-sign individual session note by" in html
    assert "Sign your individual session note" in html
    assert "Treatment-plan review" in html and "2 days overdue" in html
    assert "Unexpected drug-screen result: " in html
    assert "Below weekly minimum: 1.5 h of 9 h" in html


def test_intake_sees_contact_requests_self_checks_and_referrals_with_waiting_time(work):
    html = _page(work.intake)
    assert _sections(html) == ["contact_requests", "self_checks", "referrals"]
    assert "Referred finder 1" in html and "waiting 31 h" in html
    assert "Safety tasks" not in html  # intake cannot open them, so they are not listed


@pytest.mark.parametrize("who", ["prescriber", "nurse"])
def test_prescribers_and_nurses_see_medication_work(work, who):
    # The caseload is 42 CFR Part 2 records: medication rows reach the care team only. The
    # prescriber is on it; the nurse joins it as case manager.
    user = getattr(work, who)
    if who == "nurse":
        EpisodeOfCare.objects.filter(participant__legal_first_name="Casey1").update(
            case_manager=user)
    html = _page(user)
    assert _sections(html) == ["safety", "medication_reviews", "interactions", "naloxone"]
    assert "Interaction warning not acknowledged: " in html
    assert "Naloxone never asked" in html


def test_a_nurse_outside_the_care_team_sees_no_part2_medication_work(work):
    assert _sections(_page(work.nurse)) == []


def test_the_prescriber_sees_only_their_own_medication_reviews(work):
    from tests import factories as f

    other = f.staff(work.world.org, "prescriber", username="doc2")
    html = _page(other)
    assert "medication_reviews" not in _sections(html)


def test_the_director_sees_everything_overdue_and_counts_per_clinician(work):
    html = _page(work.world.director)
    assert _sections(html) == ["safety", "authorizations", "per_clinician", "plan_reviews",
                               "medication_reviews", "referrals_waiting"]
    assert "Family member" not in html and "Hospital (step-down) referral not started" in html
    row = re.search(r'<th scope="row">([^<]+)</th><td class="num">1</td>', html)
    assert row and row.group(1) == str(work.world.clinician)


def test_billing_sees_authorization_warnings_one_click_from_the_authorization(work):
    from openiop.billing.models import Authorization

    html = _page(work.billing)
    assert _sections(html) == ["authorizations"]
    auth = Authorization.objects.get(reference_number="AUTH-1")
    billing_tab = f"/billing/participants/{auth.coverage.participant.code}/"
    assert "Concurrent review due: authorization AUTH-1" in html and "due Mon Mar 9" in html
    assert "Authorization AUTH-1 nearly used up" in html
    assert "1 of 1 days used (100 %) on authorization AUTH-1." in html
    assert f'href="{billing_tab}#auth-{auth.code}"' in html and "Open authorization" in html
    assert "Sessions scheduled outside an authorization" in html
    assert "1 scheduled day from Mar 9 fall outside any active authorization." in html
    assert f'href="{billing_tab}#auth-head"' in html
    tab = login(work.billing).get(billing_tab).content.decode()
    assert f'id="auth-{auth.code}"' in tab  # the link's target exists


def test_a_review_more_than_a_week_away_is_not_listed(work):
    from openiop.billing.models import Authorization

    Authorization.objects.update(review_on=TODAY + timedelta(days=8))
    rows = {s.key: s for s in worklist.my_work(work.billing)}["authorizations"].rows
    assert not any(r.what.startswith("Concurrent review") for r in rows)
    Authorization.objects.update(review_on=TODAY + timedelta(days=7))
    rows = {s.key: s for s in worklist.my_work(work.billing)}["authorizations"].rows
    assert any(r.what.startswith("Concurrent review") for r in rows)


def test_clinicians_see_no_authorization_warnings(work):
    assert "authorizations" not in {s.key for s in worklist.my_work(work.world.clinician)}


def test_nothing_waiting_says_so_plainly(work):
    html = _page(work.front_desk)
    assert "Nothing is waiting for you" in html and _sections(html) == []
    count = login(work.front_desk).get("/dashboard/count/")
    assert count.status_code == 200 and count.content.decode().strip() == ""


def test_the_navigation_count_is_a_small_polled_fragment(work):
    client = login(work.world.clinician)
    html = client.get("/participants/").content.decode()
    assert 'hx-get="/dashboard/count/" hx-trigger="load, every 60s"' in html
    expected = worklist.count(worklist.my_work(work.world.clinician)) + 1  # one notification
    assert client.get("/dashboard/count/").content.decode().strip() == f"· {expected}"


def test_the_old_home_name_leads_to_my_work(work):
    response = login(work.world.clinician).get("/home/")
    assert response.status_code == 302 and response["Location"] == "/dashboard/"


def test_lists_are_bounded_with_a_show_all_link(work):
    for n in range(2, 12):
        add_caseload_person(work.world, work.prescriber, n)
    sections = {s.key: s for s in worklist.my_work(work.world.clinician)}
    safety = sections["safety"]
    assert safety.total == 11 and len(safety.rows) == worklist.LIMIT and safety.more == 3
    html = _page(work.world.clinician)
    assert "3 more" in html and "show all" in html


# Query counts: the same whatever the number of items (each list is a fixed set of queries),
# plus one for the sessions of the day. A clinician's notes to write are counted in the
# database and listed overdue and pending apart, and the weekly minimum reads the
# programs' minimums first: three more than when both were gathered in Python. Directors
# and billing: Medicare certifications (3) and authorization warnings (4: authorizations,
# attendance, coverages, bookings).
# The nurse is on no care team of this Part 2 caseload: no medication rows, so no query for
# their acknowledgements (openiop.access.scope).
# No session write: the measured requests come within a minute of the last
# (openiop.core.sessions).
PINNED = {"clinician": 19, "intake": 9, "prescriber": 15, "nurse": 14, "director": 27,
          "billing": 11}


@pytest.mark.parametrize("who", sorted(PINNED))
def test_my_work_runs_a_fixed_number_of_queries(work, who):
    user = getattr(work.world, who, None) or getattr(work, who)
    client = login(user)
    client.get("/dashboard/")  # warm the session
    with CaptureQueriesContext(connection) as small:
        client.get("/dashboard/")
    for n in range(2, 6):
        add_caseload_person(work.world, work.prescriber, n)
    with CaptureQueriesContext(connection) as large:
        client.get("/dashboard/")
    assert (len(small), len(large)) == (PINNED[who], PINNED[who])


def test_a_note_started_late_in_the_evening_shows_the_clinics_date(world):
    """21:30 on Tuesday 3 March in New York is already 4 March in UTC: the row says Mar 3."""
    from datetime import UTC, datetime

    import time_machine

    from openiop.clinical.models import Note

    with time_machine.travel(datetime(2026, 3, 4, 2, 30, tzinfo=UTC), tick=False):
        Note.objects.create(program=world.program, kind="individual", note_format="DAP",
                            participant=world.participant, author=world.clinician,
                            status="draft")
        section = worklist.notes_to_sign_section(world.clinician)
    assert [row.when for row in section.rows] == ["started Mar 3"]
