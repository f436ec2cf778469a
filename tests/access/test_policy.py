"""The declared table: its shape, its invariants, and its rendering for people."""

from __future__ import annotations

from pathlib import Path

from openiop.access.policy import (
    FHIR_KINDS,
    PAGE_KINDS,
    PART2_CARE_TEAM_KINDS,
    TABLE,
    Kind,
    Rel,
    Rule,
    render_markdown,
    rule,
)
from openiop.accounts.models import Role
from openiop.fhir.registry import SPECS
from tests.urlwalk import participant_routes

DOC = Path(__file__).resolve().parents[2] / "docs" / "access-policy.md"

REQUIRED_KINDS = {"demographics", "schedule", "notes", "plans", "measures", "messages",
                  "medications", "drug_screens", "problems", "billing", "consents", "audit"}


def test_the_table_covers_every_required_kind_and_relationship():
    assert {k.value for k in Kind} >= REQUIRED_KINDS
    assert set(TABLE) == set(Kind)
    assert {r.value for r in Rel} == {"care_team", "same_organization", "self", "family",
                                      "break_glass"}


def test_doc_is_the_rendering_of_the_table():
    assert DOC.read_text() == render_markdown(), (
        "docs/access-policy.md is out of date: run "
        "`PYTHONPATH=src python -m openiop.access.render > docs/access-policy.md`")


def test_break_the_glass_only_ever_reads():
    for kind, roles in TABLE.items():
        for role, rules in roles.items():
            assert rules.get(Rel.BREAK_GLASS) in (None, Rule.VIEW), (kind, role)


def test_part2_kinds_reach_the_organization_only_when_not_part2():
    for kind in PART2_CARE_TEAM_KINDS:
        for role, rules in TABLE[kind].items():
            same = rules.get(Rel.SAME_ORGANIZATION)
            assert same is None or same.part2_excluded, (kind, role)
    for kind in set(Kind) - PART2_CARE_TEAM_KINDS:
        assert not any(r.part2_excluded for rules in TABLE[kind].values()
                       for r in rules.values()), kind


def test_notes_and_plans_are_for_the_care_team_alone():
    for kind in (Kind.NOTES, Kind.PLANS):
        for role in Role:
            assert rule(role, kind, Rel.SAME_ORGANIZATION) is None, (kind, role)
        assert rule(Role.CLINICIAN, kind, Rel.CARE_TEAM) == Rule.CHANGE


def test_roles_without_clinical_access_have_no_clinical_cells():
    for role in (Role.FRONT_DESK, Role.INTAKE):
        for kind in (Kind.NOTES, Kind.PLANS, Kind.MEDICATIONS, Kind.DRUG_SCREENS,
                     Kind.PROBLEMS, Kind.MESSAGES, Kind.BILLING, Kind.AUDIT):
            assert TABLE[kind].get(role) is None, (role, kind)
    assert TABLE[Kind.NOTES].get(Role.BILLING) is None


def test_every_participant_page_has_a_declared_kind(db):
    from django.urls import get_resolver

    names = set()
    for route in participant_routes():
        match = get_resolver().resolve(_sample(route))
        names.add(match.view_name)
    assert names == set(PAGE_KINDS), names ^ set(PAGE_KINDS)


def test_every_fhir_type_about_a_participant_has_a_kind():
    about = {name for name, spec in SPECS.items() if spec.participant is not None}
    assert about <= set(FHIR_KINDS), about - set(FHIR_KINDS)


def _sample(route: str) -> str:
    from tests.urlwalk import fill

    return fill(route, "11111111-1111-4111-8111-111111111111")
