"""Intake screens a clinician trusts: a screener submitted twice is stored once, the
screening table dates each row, and closing a referral asks for confirmation first."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from openiop.accounts.models import Role
from openiop.intake.models import MeasureResponse, Referral
from openiop.intake.services import (
    referral_create,
    referral_record_screen,
    referral_start_screening,
)
from tests import factories as f
from tests.conftest import login

T0 = datetime(2026, 5, 4, 14, 30, tzinfo=UTC)
PHQ9 = [1, 2, 1, 0, 1, 2, 1, 0, 0]


@pytest.fixture
def intake_user(world):
    return f.staff(world.org, Role.INTAKE, username="intake1")


@pytest.fixture
def referral(world, intake_user):
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        referral = referral_create(
            actor=intake_user, source="hospital", name="Robin Q Example",
            phone="(614) 555-0123", reason="Step-down", organization=world.org,
            program=world.program, date_of_birth=date(1991, 3, 4))
        referral_start_screening(actor=intake_user, referral=referral)
    return referral


def _count(referral, instrument="phq9"):
    return MeasureResponse.objects.filter(participant=referral.participant,
                                          instrument=instrument).count()


def test_the_same_screener_twice_within_minutes_is_stored_once(intake_user, referral):
    with time_machine.travel(T0, tick=False):
        first = referral_record_screen(actor=intake_user, referral=referral,
                                       instrument="phq9", answers=PHQ9)
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        again = referral_record_screen(actor=intake_user, referral=referral,
                                       instrument="phq9", answers=list(PHQ9))
    assert again.pk == first.pk and getattr(again, "was_duplicate", False)
    assert _count(referral) == 1


def test_different_answers_or_a_later_screen_are_new_rows(intake_user, referral):
    with time_machine.travel(T0, tick=False):
        referral_record_screen(actor=intake_user, referral=referral, instrument="phq9",
                               answers=PHQ9)
        referral_record_screen(actor=intake_user, referral=referral, instrument="phq9",
                               answers=[0] * 9)
    assert _count(referral) == 2
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        referral_record_screen(actor=intake_user, referral=referral, instrument="phq9",
                               answers=PHQ9)
    assert _count(referral) == 3


def test_a_double_submitted_form_adds_one_row_and_the_table_shows_dates(
        intake_user, referral):
    url = f"/intake/referrals/{referral.code}/"
    answers = {f"q{i}": str(v) for i, v in enumerate(PHQ9, start=1)}
    with time_machine.travel(T0, tick=False):
        client = login(intake_user)  # signed in at T0, not at the suite's clock
        assert client.post(url + "screen/phq9/", answers).status_code == 302
        second = client.post(url + "screen/phq9/", answers, follow=True)
        page = client.get(url)
    assert _count(referral) == 1
    assert b"already recorded" in second.content
    body = page.content.decode()
    assert '<th scope="col">Date</th>' in body
    assert "May 4, 2026 10:30 AM" in body  # 14:30 UTC in the clinic's zone (New York)


def test_closing_a_referral_asks_for_confirmation_first(intake_user, referral):
    client = login(intake_user)
    url = f"/intake/referrals/{referral.code}/close/"
    referral.refresh_from_db()
    data = {"status": "declined", "note": "Chose a program nearer home",
            "referred_to": "", "version": referral.version}
    first = client.post(url, data)
    assert first.status_code == 200
    body = first.content.decode()
    assert "Yes, close the referral" in body and "Chose a program nearer home" in body
    referral.refresh_from_db()
    assert referral.status == Referral.Status.SCREENING and referral.closed_at is None
    confirmed = client.post(url, data | {"confirmed": "on"})
    assert confirmed.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DECLINED


def test_a_close_refused_by_a_rule_keeps_what_was_typed(intake_user, referral):
    client = login(intake_user)
    referral.refresh_from_db()
    response = client.post(f"/intake/referrals/{referral.code}/close/", {
        "status": "referred_elsewhere", "note": "Needs a higher level of care",
        "referred_to": "", "version": referral.version, "confirmed": "on"})
    assert response.status_code == 400
    assert b"Needs a higher level of care" in response.content
    assert b"Name the program or provider" in response.content
    referral.refresh_from_db()
    assert referral.is_open
