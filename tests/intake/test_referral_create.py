"""referral_create: staff referrals and public contact requests land in the queue."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from openiop.audit.models import AccessEvent
from openiop.core.exceptions import NotPermitted
from openiop.intake.models import Referral
from openiop.intake.services import referral_create


def test_a_public_finder_request_lands_as_new(world):
    referral = referral_create(source="finder", name="Pat Doe", phone="(614) 555-0199",
                               reason="Looking for an evening program", organization=world.org,
                               program=world.program, consent_text="I agree to be contacted.")
    assert referral.status == "new" and referral.received_at is not None
    assert referral.created_by is None
    assert AccessEvent.objects.filter(object_type="referral", actor=None).count() == 1


def test_public_requests_need_consent_and_a_public_source(world):
    with pytest.raises(ValidationError) as exc:
        referral_create(source="court", name="Pat Doe", email="pat@example.net",
                        reason="x", organization=world.org)
    assert {"source", "consent_text"} <= set(exc.value.message_dict)
    assert not Referral.objects.exists()


def test_it_needs_a_way_to_reply_and_names_bad_fields(world):
    with pytest.raises(ValidationError) as exc:
        referral_create(actor=world.director, source="hospital", name="", reason="",
                        organization=world.org)
    assert {"name", "reason", "phone"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError) as exc:
        referral_create(actor=world.director, source="hospital", name="A B", reason="r",
                        email="not-an-email", organization=world.org)
    assert "email" in exc.value.message_dict


def test_staff_referrals_need_the_intake_permission(world):
    with pytest.raises(NotPermitted):
        referral_create(actor=world.clinician, source="therapist", name="A B", reason="r",
                        phone="6145550100", organization=world.org)
    referral = referral_create(actor=world.director, source="therapist", name="A B",
                               reason="Step-up from weekly therapy", phone="6145550100",
                               organization=world.org, referrer_name="Dr. Outpatient")
    assert referral.created_by == world.director


def test_a_program_of_another_organization_is_refused(world):
    from tests import factories as f

    other_program = f.program(world.outsider_org)
    with pytest.raises(ValidationError) as exc:
        referral_create(source="finder", name="A B", phone="6145550100", reason="r",
                        organization=world.org, program=other_program, consent_text="ok")
    assert "program" in exc.value.message_dict
