"""Problem list: resolving an entry keeps it (history) and ends its effect on the
naloxone check; bad dates, a second resolve and other organizations are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from openiop.audit.models import AccessEvent
from openiop.core.exceptions import InvalidTransition, NotPermitted
from openiop.medications import selectors, services
from openiop.medications.models import UseDisorder
from tests.conftest import login

TODAY = timezone.localdate


def oud(med, *, days_ago: int = 30) -> UseDisorder:
    return services.use_disorder_record(
        actor=med.w.clinician, participant=med.participant, substance="opioid",
        noted_on=TODAY() - timedelta(days=days_ago))


def resolve_url(med, row: UseDisorder) -> str:
    return reverse("medications:use_disorder_resolve",
                   kwargs={"code": med.participant.code, "problem_id": row.pk})


def tab_url(med) -> str:
    return reverse("medications:participant_medications", kwargs={"code": med.participant.code})


class TestResolveService:
    def test_resolving_keeps_the_row_with_its_date_and_is_audited(self, med):
        row = oud(med)
        day = TODAY() - timedelta(days=2)
        services.use_disorder_resolve(actor=med.w.clinician, row=row, resolved_on=day)
        row.refresh_from_db()
        assert row.resolved_on == day
        assert UseDisorder.objects.filter(participant=med.participant).count() == 1
        event = AccessEvent.objects.get(object_type="use_disorder", object_id=str(row.pk),
                                        action="change")
        assert event.actor == med.w.clinician and event.participant == med.participant
        assert event.reason == "resolved"

    def test_a_future_date_is_refused_naming_the_field(self, med):
        row = oud(med)
        with pytest.raises(ValidationError) as exc:
            services.use_disorder_resolve(actor=med.w.clinician, row=row,
                                          resolved_on=TODAY() + timedelta(days=1))
        assert "resolved_on" in exc.value.message_dict
        row.refresh_from_db()
        assert row.resolved_on is None
        assert not AccessEvent.objects.filter(object_type="use_disorder",
                                              action="change").exists()

    def test_a_date_before_it_was_noted_is_refused(self, med):
        row = oud(med, days_ago=10)
        with pytest.raises(ValidationError) as exc:
            services.use_disorder_resolve(actor=med.w.clinician, row=row,
                                          resolved_on=TODAY() - timedelta(days=11))
        assert "resolved_on" in exc.value.message_dict
        row.refresh_from_db()
        assert row.resolved_on is None

    def test_resolving_on_the_day_it_was_noted_is_allowed(self, med):
        row = oud(med, days_ago=0)
        services.use_disorder_resolve(actor=med.w.clinician, row=row, resolved_on=TODAY())
        row.refresh_from_db()
        assert row.resolved_on == TODAY()

    def test_resolving_twice_is_refused_and_keeps_the_first_date(self, med):
        row = oud(med)
        first = TODAY() - timedelta(days=5)
        services.use_disorder_resolve(actor=med.w.clinician, row=row, resolved_on=first)
        stale = UseDisorder.objects.get(pk=row.pk)
        stale.resolved_on = None  # a copy loaded before the first resolve
        with pytest.raises(InvalidTransition) as exc:
            services.use_disorder_resolve(actor=med.w.clinician, row=stale, resolved_on=TODAY())
        assert exc.value.field == "resolved_on"
        row.refresh_from_db()
        assert row.resolved_on == first
        assert AccessEvent.objects.filter(object_type="use_disorder", action="change").count() == 1

    def test_staff_of_another_organization_cannot_resolve(self, med):
        row = oud(med)
        with pytest.raises(NotPermitted):
            services.use_disorder_resolve(actor=med.w.outsider, row=row, resolved_on=TODAY())
        row.refresh_from_db()
        assert row.resolved_on is None

    def test_a_role_without_clinical_write_cannot_resolve(self, med):
        from openiop.accounts.models import Role
        from tests import factories as f

        desk = f.staff(med.w.org, Role.FRONT_DESK, username="desk")
        row = oud(med)
        with pytest.raises(NotPermitted):
            services.use_disorder_resolve(actor=desk, row=row, resolved_on=TODAY())
        row.refresh_from_db()
        assert row.resolved_on is None

    def test_the_same_disorder_can_be_noted_again_after_it_was_resolved(self, med):
        row = oud(med)
        services.use_disorder_resolve(actor=med.w.clinician, row=row, resolved_on=TODAY())
        oud(med, days_ago=0)
        assert UseDisorder.objects.filter(participant=med.participant,
                                          substance="opioid").count() == 2


class TestNaloxoneCheck:
    def test_a_resolved_opioid_use_disorder_no_longer_drives_the_naloxone_check(self, med):
        from openiop.core.chart import chart_flags

        row = oud(med)
        assert selectors.naloxone_status(med.participant)["needed"] is True
        assert [g["participant"] for g in selectors.naloxone_gaps(med.w.org.pk)] == [
            med.participant]
        assert "No naloxone on hand" in [fl.label for fl in chart_flags(med.participant, med.w.episode)]

        services.use_disorder_resolve(actor=med.w.clinician, row=row, resolved_on=TODAY())
        assert selectors.naloxone_status(med.participant)["needed"] is False
        assert selectors.naloxone_gaps(med.w.org.pk) == []
        assert "No naloxone on hand" not in [fl.label for fl in chart_flags(med.participant, med.w.episode)]


class TestResolvePage:
    def test_the_tab_offers_a_resolve_form_only_for_open_entries(self, med):
        open_row = oud(med)
        closed = services.use_disorder_record(
            actor=med.w.clinician, participant=med.participant, substance="alcohol",
            noted_on=TODAY() - timedelta(days=20))
        services.use_disorder_resolve(actor=med.w.clinician, row=closed, resolved_on=TODAY())
        body = login(med.w.clinician).get(tab_url(med)).content.decode()
        assert resolve_url(med, open_row) in body
        assert resolve_url(med, closed) not in body
        assert "(resolved " in body  # the resolved entry stays listed
        assert f'for="id_resolve-{open_row.pk}-resolved_on"' in body

    def test_posting_the_form_resolves_and_goes_back_to_the_tab(self, med):
        row = oud(med)
        day = TODAY() - timedelta(days=1)
        response = login(med.w.clinician).post(
            resolve_url(med, row), {f"resolve-{row.pk}-resolved_on": day.isoformat()})
        assert response.status_code == 302 and response.url == tab_url(med)
        row.refresh_from_db()
        assert row.resolved_on == day

    def test_a_future_date_shows_the_error_on_the_field_and_stores_nothing(self, med):
        row = oud(med)
        day = TODAY() + timedelta(days=3)
        response = login(med.w.clinician).post(
            resolve_url(med, row), {f"resolve-{row.pk}-resolved_on": day.isoformat()})
        assert response.status_code == 422
        assert "Resolved on: The date resolved cannot be in the future." in (
            response.content.decode())
        row.refresh_from_db()
        assert row.resolved_on is None

    def test_a_second_resolve_by_post_is_refused(self, med):
        row = oud(med)
        client = login(med.w.clinician)
        data = {f"resolve-{row.pk}-resolved_on": TODAY().isoformat()}
        assert client.post(resolve_url(med, row), data).status_code == 302
        response = client.post(resolve_url(med, row), data)
        assert response.status_code == 422
        assert "already resolved" in response.content.decode()

    def test_another_organization_gets_404_and_nothing_changes(self, med):
        row = oud(med)
        response = login(med.w.outsider).post(
            resolve_url(med, row), {f"resolve-{row.pk}-resolved_on": TODAY().isoformat()})
        assert response.status_code == 404
        row.refresh_from_db()
        assert row.resolved_on is None

    def test_an_entry_of_another_participant_is_404_under_this_chart(self, med):
        from tests import factories as f

        other = f.participant(med.w.org, legal_first_name="Sam", legal_last_name="Other")
        theirs = services.use_disorder_record(
            actor=med.w.clinician, participant=other, substance="opioid",
            noted_on=TODAY() - timedelta(days=3))
        url = reverse("medications:use_disorder_resolve",
                      kwargs={"code": med.participant.code, "problem_id": theirs.pk})
        response = login(med.w.clinician).post(
            url, {f"resolve-{theirs.pk}-resolved_on": TODAY().isoformat()})
        assert response.status_code == 404
        theirs.refresh_from_db()
        assert theirs.resolved_on is None
