"""require() and scope(): the table applied to one participant and to lists."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.http import Http404
from django.utils import timezone

from openiop.access.decisions import AccessDenied, is_care_team, require, scope
from openiop.access.policy import Kind
from openiop.access.services import break_glass_grant
from openiop.core.exceptions import NotPermitted
from openiop.medications.models import MedicationOrder
from openiop.participants.models import Participant


def _order(participant, prescriber):
    return MedicationOrder.objects.create(
        participant=participant, name="Sertraline", catalog_key="sertraline",
        dose=Decimal("50"), unit="mg", route="oral", frequency="daily", prescriber=prescriber,
        start_date=timezone.localdate() - timedelta(days=3))


def test_another_organization_is_not_found(clinic):
    with pytest.raises(Http404):
        require(clinic.w.outsider, Kind.DEMOGRAPHICS, clinic.w.participant)


def test_a_refusal_is_both_a_permission_error_and_a_domain_error(clinic):
    with pytest.raises(AccessDenied) as exc:
        require(clinic.personas["front_desk"], Kind.MEDICATIONS, clinic.w.participant)
    assert isinstance(exc.value, NotPermitted)


def test_part2_medications_are_for_the_care_team(clinic):
    p = clinic.w.participant
    require(clinic.personas["clinician_on_team"], Kind.MEDICATIONS, p)
    require(clinic.personas["director"], Kind.MEDICATIONS, p)
    for who in ("clinician_off_team", "nurse", "prescriber", "admin"):
        with pytest.raises(AccessDenied):
            require(clinic.personas[who], Kind.MEDICATIONS, p)


def test_a_participant_who_is_not_part2_keeps_the_organization_rule(clinic):
    for who in ("clinician_off_team", "nurse", "prescriber", "admin"):
        assert require(clinic.personas[who], Kind.MEDICATIONS, clinic.plain) == clinic.plain
    # Notes stay with the care team for everyone.
    with pytest.raises(AccessDenied):
        require(clinic.personas["clinician_off_team"], Kind.NOTES, clinic.plain)


def test_the_administrator_is_not_care_team_but_the_director_is(clinic):
    p = clinic.w.participant
    assert not is_care_team(clinic.personas["admin"], p)
    assert is_care_team(clinic.personas["director"], p)
    with pytest.raises(AccessDenied):
        require(clinic.personas["admin"], Kind.NOTES, p)
    break_glass_grant(actor=clinic.personas["admin"], participant=p, reason="Audit of a crisis")
    require(clinic.personas["admin"], Kind.NOTES, p)


def test_break_the_glass_reads_but_does_not_write(clinic):
    who, p = clinic.personas["clinician_off_team"], clinic.w.participant
    break_glass_grant(actor=who, participant=p, reason="Crisis call, therapist away")
    require(who, Kind.MEDICATIONS, p)
    with pytest.raises(AccessDenied):
        require(who, Kind.MEDICATIONS, p, action="change")


def test_a_record_stands_for_its_participant(clinic):
    order = _order(clinic.w.participant, clinic.w.clinician)
    assert require(clinic.w.clinician, Kind.MEDICATIONS, order) == clinic.w.participant
    with pytest.raises(AccessDenied):
        require(clinic.personas["nurse"], Kind.MEDICATIONS, order)


def test_scope_is_the_table_as_a_filter(clinic):
    part2, plain = clinic.w.participant, clinic.plain
    orders = {o.participant_id: o for o in (_order(part2, clinic.w.clinician),
                                            _order(plain, clinic.w.clinician))}
    theirs = _order(clinic.w.outsider_participant, clinic.w.clinician)
    qs = MedicationOrder.objects.all()

    def ids(who):
        return set(scope(qs, who, Kind.MEDICATIONS).values_list("pk", flat=True))

    both = {orders[part2.pk].pk, orders[plain.pk].pk}
    assert ids(clinic.personas["clinician_on_team"]) == both
    assert ids(clinic.personas["director"]) == both
    nurse = clinic.personas["nurse"]
    assert ids(nurse) == {orders[plain.pk].pk}
    break_glass_grant(actor=nurse, participant=part2, reason="Overdose response")
    assert ids(nurse) == both
    assert ids(clinic.personas["front_desk"]) == set()
    assert ids(clinic.w.outsider) == {theirs.pk}  # a director elsewhere: only their own
    people = Participant.objects.all()
    assert set(scope(people, clinic.personas["front_desk"], Kind.DEMOGRAPHICS,
                     participant_path="")) == {part2, plain}


def test_scope_agrees_with_require_for_every_persona_and_kind(clinic):
    people = Participant.objects.filter(organization=clinic.w.org)
    for name, who in clinic.personas.items():
        for kind in Kind:
            listed = set(scope(people, who, kind, participant_path=""))
            for person in people:
                try:
                    require(who, kind, person)
                    allowed = True
                except (AccessDenied, Http404):
                    allowed = False
                assert (person in listed) == allowed, (name, kind, person)
