"""The periodic notice to the billing office: an authorization 80 % used or ending soon is
told once per threshold, to billing staff, without identifying the participant."""

from __future__ import annotations

from datetime import timedelta

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.billing.models import Authorization, AuthorizationNotice
from openiop.billing.services.notices import AUTH_ENDING_DAYS, authorization_notices_send
from openiop.core import periodic
from openiop.notifications.models import Notification

from .. import factories as f
from .conftest import FROZEN, TODAY, attended, coverage

EIGHTY = "An authorization has used 80 % of its units"
ENDING = "An authorization ends within a week"


def _auth(clinic, *, units=5, ends_in=30, reference="A-80"):
    cov = coverage(clinic.world.participant, clinic.commercial)
    return Authorization.objects.create(coverage=cov, units_approved=units,
                                        reference_number=reference,
                                        starts_on=TODAY - timedelta(days=10),
                                        ends_on=TODAY + timedelta(days=ends_in))


def _four_days_attended(clinic):
    w = clinic.world
    for back in range(1, 5):
        attended(w, w.participant, TODAY - timedelta(days=back), hour=9)


def test_the_job_is_registered_with_the_periodic_scheduler():
    (job,) = [p for p in periodic.registered() if p.name == "authorization-notices"]
    assert job.every == timedelta(hours=1)
    assert job.task == "openiop.billing.tasks.send_authorization_notices"


def test_an_authorization_at_80_percent_gives_one_notice_to_billing_staff(clinic):
    auth = _auth(clinic)
    _four_days_attended(clinic)  # 4 of 5 days
    assert authorization_notices_send(now=FROZEN) == 1
    assert authorization_notices_send(now=FROZEN + timedelta(hours=1)) == 0
    (note,) = Notification.objects.all()
    assert note.user == clinic.billing and note.text == EIGHTY
    assert note.url.endswith(f"#auth-{auth.code}")
    for word in (clinic.world.participant.legal_last_name, "A-80", "Acme"):
        assert word not in note.text
    notice = AuthorizationNotice.objects.get()
    assert (notice.authorization, notice.kind, notice.basis) == (auth, "units_80", "5")
    event = AccessEvent.objects.get(object_type="authorization_notice")
    assert event.object_id == str(auth.code) and event.actor is None


def test_more_units_approved_is_a_new_question(clinic):
    auth = _auth(clinic)
    _four_days_attended(clinic)
    authorization_notices_send(now=FROZEN)
    Authorization.objects.filter(pk=auth.pk).update(units_approved=5)  # unchanged: no notice
    assert authorization_notices_send(now=FROZEN) == 0
    Authorization.objects.filter(pk=auth.pk).update(units_approved=10)  # 40 %: nothing due
    assert authorization_notices_send(now=FROZEN) == 0
    attended(clinic.world, clinic.world.participant, TODAY - timedelta(days=5))
    for back in (6, 7, 8):
        attended(clinic.world, clinic.world.participant, TODAY - timedelta(days=back))
    assert authorization_notices_send(now=FROZEN) == 1  # 8 of 10
    assert Notification.objects.filter(text=EIGHTY).count() == 2


def test_an_authorization_ending_within_a_week_is_told_once(clinic):
    _auth(clinic, ends_in=AUTH_ENDING_DAYS + 1)
    assert authorization_notices_send(now=FROZEN) == 0
    assert authorization_notices_send(now=FROZEN + timedelta(days=1)) == 1
    assert authorization_notices_send(now=FROZEN + timedelta(days=2)) == 0
    assert list(Notification.objects.values_list("text", flat=True)) == [ENDING]


def test_directors_are_told_when_the_clinic_has_no_billing_staff(clinic):
    clinic.billing.is_active = False
    clinic.billing.save()
    _auth(clinic, ends_in=2)
    assert authorization_notices_send(now=FROZEN) == 1
    assert {n.user.role for n in Notification.objects.all()} == {Role.DIRECTOR}


def test_cancelled_authorizations_and_other_clinics_are_left_alone(clinic):
    auth = _auth(clinic, ends_in=2)
    Authorization.objects.filter(pk=auth.pk).update(status=Authorization.Status.CANCELLED)
    other = clinic.world.outsider_participant
    Authorization.objects.create(coverage=coverage(other, clinic.commercial), units_approved=5,
                                 reference_number="O", starts_on=TODAY, ends_on=TODAY)
    assert authorization_notices_send(now=FROZEN) == 1  # the other clinic's
    assert list(Notification.objects.values_list("user", flat=True)) == [clinic.world.outsider.pk]


def test_the_scheduler_runs_it_on_a_worker_and_the_jobs_page_lists_the_run(clinic, run_worker):
    from openiop.jobs.models import Job
    from openiop.jobs.scheduler import run_due
    from tests.conftest import login

    _auth(clinic, ends_in=2)
    jobs = [p for p in periodic.registered() if p.name == "authorization-notices"]
    assert run_due(now=FROZEN, jobs=jobs) == ["authorization-notices"]
    run_worker()
    job = Job.objects.get(kind="periodic:authorization-notices")
    assert job.state == Job.State.SUCCEEDED and job.result == {"notices_sent": 1}
    assert Notification.objects.get().user == clinic.billing
    page = login(clinic.world.director).get("/jobs/?scheduled=1")
    assert "Scheduled: authorization notices" in page.content.decode()


def test_my_work_shows_billing_staff_what_the_notice_is_about(clinic):
    from tests.conftest import login

    auth = _auth(clinic, ends_in=3, reference="END-3")
    authorization_notices_send(now=FROZEN)
    (note,) = Notification.objects.filter(user=clinic.billing)
    html = login(clinic.billing).get("/dashboard/").content.decode()
    assert "Authorization END-3 ends soon" in html
    assert f'href="{note.url}"' in html and note.url.endswith(f"#auth-{auth.code}")
    assert "Authorization END-3 ends Mar 19." in html


def test_reading_what_is_due_takes_a_fixed_number_of_queries(clinic,
                                                              django_assert_max_num_queries):
    for n in range(5):
        cov = coverage(f.participant(clinic.world.org), clinic.commercial)
        auth = Authorization.objects.create(coverage=cov, units_approved=5, reference_number=f"N{n}",
                                            starts_on=TODAY - timedelta(days=10),
                                            ends_on=TODAY + timedelta(days=2))
        AuthorizationNotice.objects.create(authorization=auth, kind="ends_soon",
                                           basis=auth.ends_on.isoformat(), notified_at=FROZEN)
    _auth(clinic, ends_in=2)
    # organizations (2), the warnings (4), their authorizations, the notices sent, billing
    # staff; then the one new notice: savepoints, its row, the audit event (PostgreSQL adds
    # the chain's advisory lock), notification. The same with one or fifty told already.
    with django_assert_max_num_queries(21):
        assert authorization_notices_send(now=FROZEN) == 1
