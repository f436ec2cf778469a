"""The public self-check: anonymous, stores nothing unless sent, crisis banner on risk."""

from __future__ import annotations

from django.test import Client

from openiop.audit.models import AccessEvent
from openiop.intake.models import Referral, SafetyTask
from openiop.participants.models import Participant


def answers(phq=(1,) * 9, gad=(1,) * 7, **ctx):
    data = {f"phq9-q{i + 1}": str(v) for i, v in enumerate(phq)}
    data |= {f"gad7-q{i + 1}": str(v) for i, v in enumerate(gad)}
    data |= {"ctx-age_group": "adult", "ctx-hours": "12", "ctx-substances": "no",
             "ctx-home_safe": "yes"} | {f"ctx-{k}": v for k, v in ctx.items()}
    return data


def test_the_page_is_public_and_explains_itself(db):
    page = Client().get("/intake/self-check/")
    assert page.status_code == 200
    assert b"Nothing you answer is stored" in page.content
    assert b"Little interest or pleasure" in page.content


def test_a_result_is_shown_and_nothing_is_stored(world):
    before = (AccessEvent.objects.count(), Participant.objects.count())
    page = Client().post("/intake/self-check/", answers(phq=(2, 2, 2, 2, 2, 2, 2, 2, 0)))
    assert page.status_code == 200
    assert b"A level of care that may fit: Intensive outpatient" in page.content
    assert b"Partial hospitalization:" in page.content  # every level explained
    assert b"crisis-banner" not in page.content
    assert (AccessEvent.objects.count(), Participant.objects.count()) == before
    assert not Referral.objects.exists()


def test_any_risk_answer_shows_the_crisis_banner(world):
    page = Client().post("/intake/self-check/", answers(phq=(0,) * 8 + (1,)))
    assert b"crisis-banner" in page.content and b"988" in page.content
    incomplete = Client().post("/intake/self-check/", {"phq9-q9": "2"})
    assert incomplete.status_code == 400 and b"crisis-banner" in incomplete.content
    assert not SafetyTask.objects.exists()


def test_missing_answers_are_named(db):
    data = answers()
    del data["gad7-q4"]
    page = Client().post("/intake/self-check/", data)
    assert page.status_code == 400
    assert b"Please answer every question" in page.content


def test_sending_the_result_creates_a_referral_for_the_chosen_program(world):
    data = answers(phq=(3, 3, 2, 2, 2, 2, 2, 2, 1)) | {
        "program": world.program.pk, "name": "Sam Public", "phone": "(614) 555-0142",
        "consent": "on"}
    page = Client().post("/intake/self-check/send/", data)
    assert page.status_code == 200 and b"Sent to Adult IOP" in page.content
    referral = Referral.objects.get()
    assert referral.source == "self_check" and referral.organization == world.org
    assert referral.urgent and "PHQ-9 19" in referral.reason and referral.consent_text
    task = SafetyTask.objects.get()
    assert task.referral == referral


def test_sending_needs_consent_and_a_way_to_reply(world):
    data = answers() | {"program": world.program.pk, "name": "Sam Public"}
    page = Client().post("/intake/self-check/send/", data)
    assert page.status_code == 400
    assert not Referral.objects.exists()
    page = Client().post("/intake/self-check/send/", data | {"consent": "on"})
    assert page.status_code == 400 and b"phone number or an email" in page.content
