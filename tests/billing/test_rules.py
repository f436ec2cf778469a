"""The charge rules as pure functions (data/charge_rules.json applied to one day)."""

from __future__ import annotations

import pytest

from openiop.billing import rules
from openiop.billing.rules import Service


def svc(kind: str, minutes: int, *, sid: int = 1, provider: int = 7, signed: bool = True,
        **kw) -> Service:
    return Service(session_id=sid, kind=kind, minutes=minutes, provider_id=provider,
                   note_id=sid if signed else None, note_signed=signed, **kw)


@pytest.mark.parametrize(("minutes", "code"), [
    (15, ""), (16, "90832"), (37, "90832"), (38, "90834"), (52, "90834"), (53, "90837"),
    (90, "90837"),
])
def test_psychotherapy_codes_follow_the_cpt_time_bands(minutes, code):
    assert rules.psychotherapy_code(minutes, with_em=False) == code


@pytest.mark.parametrize(("minutes", "code"), [
    (9, ""), (10, "99212"), (19, "99212"), (20, "99213"), (30, "99214"), (39, "99214"),
    (40, "99215"), (75, "99215"),
])
def test_em_codes_need_the_time_threshold_met(minutes, code):
    assert rules.em_code(minutes) == code


def test_psychotherapy_by_the_prescriber_who_also_billed_an_em_becomes_the_add_on_code():
    day = rules.day_lines(rule_set="professional", focus="mh", services=[
        svc("medication", 25, sid=1, provider=3), svc("individual", 40, sid=2, provider=3),
        svc("individual", 40, sid=3, provider=9)])
    codes = sorted(line.hcpcs for line in day.lines)
    assert codes == ["90834", "90836", "99213"]


def test_a_late_arrival_lowers_the_time_based_code():
    on_time = rules.day_lines(rule_set="professional", focus="mh",
                              services=[svc("individual", 55)])
    late = rules.day_lines(rule_set="professional", focus="mh", services=[svc("individual", 45)])
    assert [ln.hcpcs for ln in on_time.lines] == ["90837"]
    assert [ln.hcpcs for ln in late.lines] == ["90834"]


def test_no_line_without_a_signed_note_and_the_reason_is_given():
    day = rules.day_lines(rule_set="professional", focus="mh",
                          services=[svc("individual", 50, signed=False)])
    assert day.lines == []
    assert day.skipped == ["individual session has no signed note"]


def test_family_therapy_needs_26_minutes_and_uses_90847_with_the_patient_present():
    short = rules.day_lines(rule_set="professional", focus="mh", services=[svc("family", 25)])
    ok = rules.day_lines(rule_set="professional", focus="mh", services=[svc("family", 50)])
    without = rules.day_lines(rule_set="professional", focus="mh",
                              services=[svc("family", 50, family_present_with_patient=False)])
    assert short.lines == [] and "26 minutes" in short.skipped[0]
    assert [ln.hcpcs for ln in ok.lines] == ["90847"]
    assert [ln.hcpcs for ln in without.lines] == ["90846"]


def test_medicare_iop_bills_each_service_with_the_revenue_code_of_the_program_focus():
    services = [svc("group", 60, sid=1), svc("psychoeducation", 60, sid=2),
                svc("individual", 45, sid=3), svc("yoga", 60, sid=4)]
    mh = rules.day_lines(rule_set="medicare_iop", focus="mh", services=services)
    su = rules.day_lines(rule_set="medicare_iop", focus="su", services=services)
    assert sorted(ln.hcpcs for ln in mh.lines) == ["90834", "G0176", "G0177", "G0410"]
    assert {ln.revenue_code for ln in mh.lines} == {"0905"}
    assert {ln.revenue_code for ln in su.lines} == {"0906"}
    assert {ln.claim_type for ln in mh.lines} == {"I"}
    assert mh.tier.startswith("4 or more services")


def test_medicare_iop_day_tiers_three_services_and_below_three():
    three = rules.day_lines(rule_set="medicare_iop", focus="mh", services=[
        svc("group", 60, sid=i) for i in range(3)])
    two = rules.day_lines(rule_set="medicare_iop", focus="mh", services=[
        svc("group", 60, sid=i) for i in range(2)])
    assert three.tier.startswith("3 services")
    assert "below the 3" in two.tier


def test_medicare_medication_visits_go_on_a_professional_claim():
    day = rules.day_lines(rule_set="medicare_iop", focus="mh", services=[
        svc("group", 60, sid=1), svc("medication", 30, sid=2)])
    by_type = {ln.claim_type: ln.hcpcs for ln in day.lines}
    assert by_type == {"I": "G0410", "P": "99214"}


def test_per_diem_is_one_line_a_day_only_when_the_day_meets_the_payers_minimum():
    services = [svc("group", 90, sid=1), svc("skills", 90, sid=2)]
    full = rules.day_lines(rule_set="per_diem", focus="mh", services=services,
                           per_diem_code="S9480", min_minutes_per_day=180)
    short = rules.day_lines(rule_set="per_diem", focus="su", services=services[:1],
                            per_diem_code="H0015", min_minutes_per_day=180)
    assert [(ln.hcpcs, ln.units, ln.revenue_code, ln.minutes) for ln in full.lines] == [
        ("S9480", 1, "0905", 180)]
    assert short.lines == []
    assert "below the payer's minimum of 180" in short.skipped[0]


def test_every_rule_set_carries_its_sources():
    data = rules.charge_rules()
    for name in ("medicare_iop", "per_diem", "professional"):
        assert data[name]["sources"], name
    assert any("410.44" in s for s in data["medicare_iop"]["sources"])
    assert any("MM13222" in s for s in data["medicare_iop"]["sources"])
