"""Who may see or change which of a participant's records: the declared table.

Every channel (the pages, the JSON API, FHIR, the portal) asks `openiop.access.require`
or `openiop.access.scope`, and both read this table; `docs/access-policy.md` is this
table rendered for a compliance officer (a test keeps the two equal).

A cell is (role, record kind, relationship) -> rule. The rule is one of
- VIEW: may read;
- CHANGE: may read and write (the role's own permission for the write still applies);
- VIEW_UNLESS_PART2 / CHANGE_UNLESS_PART2: the same, but not when the participant's record
  is a 42 CFR Part 2 record; then only the care team (or an audited break-the-glass grant)
  reaches it.
An absent cell refuses.

Sources: HIPAA minimum necessary (45 CFR 164.502(b), 164.514(d)): workforce members see
the records their job needs; emergency access procedure (45 CFR 164.312(a)(2)(ii)): the
break-the-glass grant, with a reason, audited and time-limited; 42 CFR 2.12(c)(3) and
2.13: within a Part 2 program, patient-identifying SUD records go only to those who need
them to provide the diagnosis, treatment or referral for treatment (the care team).
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from openiop.accounts.models import Role
from openiop.accounts.permissions import Perm


class Kind(StrEnum):
    DEMOGRAPHICS = "demographics"
    CARE = "care"
    SCHEDULE = "schedule"
    NOTES = "notes"
    PLANS = "plans"
    SKILLS = "skills"
    MEASURES = "measures"
    MESSAGES = "messages"
    MEDICATIONS = "medications"
    DRUG_SCREENS = "drug_screens"
    PROBLEMS = "problems"
    BILLING = "billing"
    CONSENTS = "consents"
    AUDIT = "audit"


KIND_LABELS: dict[Kind, str] = {
    Kind.DEMOGRAPHICS: "Demographics (name, contact, portal accounts, availability)",
    Kind.CARE: "Episodes of care (admission, level of care, discharge)",
    Kind.SCHEDULE: "Schedule and attendance",
    Kind.NOTES: "Clinical notes",
    Kind.PLANS: "Treatment and safety plans",
    Kind.SKILLS: "Skills work (homework, relapse-prevention plan)",
    Kind.MEASURES: "Measures and outcomes",
    Kind.MESSAGES: "Portal messages",
    Kind.MEDICATIONS: "Medications and allergies",
    Kind.DRUG_SCREENS: "Drug screens",
    Kind.PROBLEMS: "Problems and diagnoses",
    Kind.BILLING: "Billing (coverage, charges, claims, statements)",
    Kind.CONSENTS: "Consents",
    Kind.AUDIT: "Access log",
}


class Rel(StrEnum):
    CARE_TEAM = "care_team"
    SAME_ORGANIZATION = "same_organization"
    SELF = "self"
    FAMILY = "family"
    BREAK_GLASS = "break_glass"


REL_LABELS: dict[Rel, str] = {
    Rel.CARE_TEAM: "Care team",
    Rel.SAME_ORGANIZATION: "Same organization",
    Rel.SELF: "Self (participant)",
    Rel.FAMILY: "Family (consented scope)",
    Rel.BREAK_GLASS: "Break the glass",
}

REL_MEANINGS: dict[Rel, str] = {
    Rel.CARE_TEAM: "Primary therapist, prescriber, case manager or family therapist of one of "
                   "the participant's open episodes, or the program director of the participant's organization. "
                   "The clinic Administrator is not care team.",
    Rel.SAME_ORGANIZATION: "Staff of the participant's organization.",
    Rel.SELF: "The participant, signed in to the portal.",
    Rel.FAMILY: "A family member whose family-access consent is in force and whose scope "
                "covers the record kind.",
    Rel.BREAK_GLASS: "Staff of the participant's organization holding an unexpired, "
                     "unrevoked emergency-access grant for this participant (a reason is "
                     "required; the grant is audited and lasts 60 minutes).",
}


class Rule(StrEnum):
    VIEW = "view"
    CHANGE = "change"
    VIEW_UNLESS_PART2 = "view, not Part 2"
    CHANGE_UNLESS_PART2 = "change, not Part 2"

    @property
    def allows_change(self) -> bool:
        return self in (Rule.CHANGE, Rule.CHANGE_UNLESS_PART2)

    @property
    def part2_excluded(self) -> bool:
        return self in (Rule.VIEW_UNLESS_PART2, Rule.CHANGE_UNLESS_PART2)


# The kinds that, for a Part 2 participant, only the care team (or break the glass) reads.
PART2_CARE_TEAM_KINDS: frozenset[Kind] = frozenset({
    Kind.NOTES, Kind.PLANS, Kind.SKILLS, Kind.MEASURES, Kind.MESSAGES, Kind.MEDICATIONS,
    Kind.DRUG_SCREENS, Kind.PROBLEMS,
})

# What each family-access consent scope lets a family member see (participants.consents).
FAMILY_SCOPE_KINDS: dict[str, frozenset[Kind]] = {
    "family_schedule": frozenset({Kind.SCHEDULE}),
    "family_education": frozenset(),
    "shared_notes": frozenset({Kind.MESSAGES}),
}

R = Rel
V, C = Rule.VIEW, Rule.CHANGE
V2, C2 = Rule.VIEW_UNLESS_PART2, Rule.CHANGE_UNLESS_PART2

ADMIN, DIRECTOR = Role.ADMIN, Role.DIRECTOR
CLINICIAN, PRESCRIBER, NURSE = Role.CLINICIAN, Role.PRESCRIBER, Role.NURSE
INTAKE, FRONT_DESK, BILLING = Role.INTAKE, Role.FRONT_DESK, Role.BILLING
PARTICIPANT, FAMILY = Role.PARTICIPANT, Role.FAMILY

CLINICAL_ROLES = (ADMIN, DIRECTOR, CLINICIAN, PRESCRIBER, NURSE)


def _team_only() -> dict[Rel, Rule]:
    """Care team reads and writes; anyone else on the staff only by breaking the glass."""
    return {R.CARE_TEAM: C, R.BREAK_GLASS: V}


def _org_unless_part2() -> dict[Rel, Rule]:
    """Staff of the organization, except for a Part 2 record: then care team or the glass."""
    return {R.CARE_TEAM: C, R.SAME_ORGANIZATION: C2, R.BREAK_GLASS: V}


TABLE: dict[Kind, dict[str, dict[Rel, Rule]]] = {
    Kind.DEMOGRAPHICS: {
        **{role: {R.SAME_ORGANIZATION: C} for role in (*CLINICAL_ROLES, INTAKE, FRONT_DESK)},
        BILLING: {R.SAME_ORGANIZATION: V},
        PARTICIPANT: {R.SELF: V},
    },
    Kind.CARE: {
        **{role: {R.SAME_ORGANIZATION: C} for role in (*CLINICAL_ROLES, INTAKE)},
        FRONT_DESK: {R.SAME_ORGANIZATION: V},
        BILLING: {R.SAME_ORGANIZATION: V},
    },
    Kind.SCHEDULE: {
        **{role: {R.SAME_ORGANIZATION: C}
           for role in (*CLINICAL_ROLES, INTAKE, FRONT_DESK, BILLING)},
        PARTICIPANT: {R.SELF: V},
        FAMILY: {R.FAMILY: V},
    },
    Kind.NOTES: {role: _team_only() for role in CLINICAL_ROLES},
    Kind.PLANS: {role: _team_only() for role in CLINICAL_ROLES},
    Kind.SKILLS: {
        **{role: _org_unless_part2() for role in CLINICAL_ROLES},
        PARTICIPANT: {R.SELF: C},
    },
    Kind.MEASURES: {
        **{role: _org_unless_part2() for role in CLINICAL_ROLES},
        PARTICIPANT: {R.SELF: C},
    },
    Kind.MESSAGES: {
        **{role: _org_unless_part2() for role in CLINICAL_ROLES},
        PARTICIPANT: {R.SELF: C},
        FAMILY: {R.FAMILY: V},
    },
    Kind.MEDICATIONS: {role: _org_unless_part2() for role in CLINICAL_ROLES},
    Kind.DRUG_SCREENS: {role: _org_unless_part2() for role in CLINICAL_ROLES},
    Kind.PROBLEMS: {
        **{role: _org_unless_part2() for role in CLINICAL_ROLES},
        # Billing reads the diagnosis codes a claim carries (payment), not for a Part 2
        # record without a care-team relationship.
        BILLING: {R.SAME_ORGANIZATION: V2},
    },
    Kind.BILLING: {role: {R.SAME_ORGANIZATION: C} for role in (ADMIN, DIRECTOR, BILLING)},
    Kind.CONSENTS: {
        **{role: {R.SAME_ORGANIZATION: C}
           for role in (*CLINICAL_ROLES, INTAKE, FRONT_DESK, BILLING)},
        PARTICIPANT: {R.SELF: V},
    },
    Kind.AUDIT: {role: {R.SAME_ORGANIZATION: V} for role in (ADMIN, DIRECTOR)},
}


def rule(role: str, kind: Kind, rel: Rel) -> Rule | None:
    return TABLE[kind].get(role, {}).get(rel)


# Which record kind each participant page shows (URL name -> kind); the persona walk in
# tests/access compares every participant URL with the table through this map. None: the
# page is the way in (asking for emergency access), open to the organization's clinical staff.
PAGE_KINDS: dict[str, Kind | None] = {
    "participants:chart": Kind.DEMOGRAPHICS,
    "participants:edit": Kind.DEMOGRAPHICS,
    "participants:availability_add": Kind.DEMOGRAPHICS,
    "participants:availability_remove": Kind.DEMOGRAPHICS,
    "participants:related_person_add": Kind.DEMOGRAPHICS,
    "participants:portal_deactivate": Kind.DEMOGRAPHICS,
    "participants:portal_reactivate": Kind.DEMOGRAPHICS,
    "participants:portal_link": Kind.DEMOGRAPHICS,
    "participants:portal_invite": Kind.DEMOGRAPHICS,
    "participants:consents": Kind.CONSENTS,
    "participants:consent_print": Kind.CONSENTS,
    "participants:consent_revoke": Kind.CONSENTS,
    "participants:consent_add_part2": Kind.CONSENTS,
    "participants:consent_add_family": Kind.CONSENTS,
    "care:participant_care": Kind.CARE,
    "care:loc_confirm": Kind.CARE,
    "care:episode_authorized": Kind.CARE,
    "care:episode_discharge": Kind.CARE,
    "care:episode_from_waitlist": Kind.CARE,
    "care:episode_level": Kind.CARE,
    "care:episode_family_therapist": Kind.CARE,
    "scheduling:participant_schedule": Kind.SCHEDULE,
    "scheduling:booking_pin": Kind.SCHEDULE,
    "scheduling:participant_feed_create": Kind.SCHEDULE,
    "scheduling:participant_feed_revoke": Kind.SCHEDULE,
    "scheduling:track_move": Kind.SCHEDULE,
    "scheduling:track_alternatives": Kind.SCHEDULE,
    "clinical:participant_notes": Kind.NOTES,
    "clinical:participant_note": Kind.NOTES,
    "clinical:break_glass": None,
    "clinical:release_record": Kind.NOTES,
    "clinical:participant_plan": Kind.PLANS,
    **{f"clinical:plan_{verb}": Kind.PLANS for verb in (
        "start", "problem", "goal", "objective", "intervention", "status", "review",
        "acknowledge", "finish")},
    "clinical:plan_export": Kind.PLANS,
    "clinical:plan_revision": Kind.PLANS,
    "clinical:safety_plan": Kind.PLANS,
    "clinical:safety_plan_export": Kind.PLANS,
    "skills:participant_skills": Kind.SKILLS,
    "skills:homework_assign": Kind.SKILLS,
    "skills:homework_review": Kind.SKILLS,
    "skills:homework_close": Kind.SKILLS,
    "skills:relapse_plan": Kind.SKILLS,
    "outcomes:participant_measures": Kind.MEASURES,
    "outcomes:record_measure": Kind.MEASURES,
    "portal:staff_messages": Kind.MESSAGES,
    "portal:staff_shared_note": Kind.MESSAGES,
    "medications:participant_medications": Kind.MEDICATIONS,
    "medications:adherence_add": Kind.MEDICATIONS,
    "medications:administer": Kind.MEDICATIONS,
    "medications:allergies": Kind.MEDICATIONS,
    "medications:allergy_status": Kind.MEDICATIONS,
    "medications:no_known_allergies": Kind.MEDICATIONS,
    "medications:naloxone_add": Kind.MEDICATIONS,
    "medications:order_adjust": Kind.MEDICATIONS,
    "medications:order_stop": Kind.MEDICATIONS,
    "medications:order_new": Kind.MEDICATIONS,
    "medications:reconcile": Kind.MEDICATIONS,
    "medications:review_add": Kind.MEDICATIONS,
    "medications:side_effect_add": Kind.MEDICATIONS,
    "medications:screen_new": Kind.DRUG_SCREENS,
    "medications:use_disorder_add": Kind.PROBLEMS,
    "medications:use_disorder_resolve": Kind.PROBLEMS,
    "billing:participant_diagnoses": Kind.PROBLEMS,
    "billing:diagnosis_principal": Kind.PROBLEMS,
    "billing:diagnosis_resolve": Kind.PROBLEMS,
    "billing:diagnosis_entered_in_error": Kind.PROBLEMS,
    "billing:participant_billing": Kind.BILLING,
    "billing:ur_packet": Kind.BILLING,
    "billing:ur_packet_pdf": Kind.BILLING,
    "billing:certification_add": Kind.BILLING,
    "billing:coverage_add": Kind.BILLING,
    "billing:authorization_add": Kind.BILLING,
    "billing:financial_profile": Kind.BILLING,
    "billing:statement": Kind.BILLING,
    "audit:participant_events": Kind.AUDIT,
    # SMART EHR launch from the chart: the app then reads only what the staff member may.
    "oauth2_provider:launch": Kind.DEMOGRAPHICS,
}

class Needs(NamedTuple):
    """The role permissions a participant page asks on top of the table: `view` to be
    served at all (the view's `staff_required` permission; None: any clinic staff member),
    `change` for what it writes (the write service's `require_perm`; None: the page
    writes nothing)."""

    view: Perm | None
    change: Perm | None


_P = Perm
_READ_ONLY = None

# The role permission each participant page needs (URL name -> Needs), beside its record
# kind above: a persona reaches a page when the table allows the kind AND its role holds the
# permission. The persona walk in tests/access compares both with what the pages answer,
# and checks `view` against the view's own `staff_required` declaration.
PAGE_PERMS: dict[str, Needs] = {
    "participants:chart": Needs(_P.PARTICIPANT_VIEW, _READ_ONLY),
    **{name: Needs(_P.PARTICIPANT_EDIT, _P.PARTICIPANT_EDIT) for name in (
        "participants:edit", "participants:availability_add",
        "participants:availability_remove", "participants:related_person_add")},
    **{name: Needs(_P.ADMIT, _P.ADMIT) for name in (
        "participants:portal_deactivate", "participants:portal_reactivate",
        "participants:portal_link", "participants:portal_invite", "participants:consent_revoke",
        "participants:consent_add_part2", "participants:consent_add_family")},
    "participants:consents": Needs(_P.PARTICIPANT_VIEW, _READ_ONLY),
    "participants:consent_print": Needs(_P.PARTICIPANT_VIEW, _READ_ONLY),
    "care:participant_care": Needs(_P.PARTICIPANT_VIEW, _READ_ONLY),
    **{name: Needs(_P.ADMIT, _P.ADMIT) for name in (
        "care:loc_confirm", "care:episode_authorized", "care:episode_discharge",
        "care:episode_from_waitlist", "care:episode_level", "care:episode_family_therapist")},
    "scheduling:participant_schedule": Needs(_P.SCHEDULE_VIEW, _READ_ONLY),
    "scheduling:booking_pin": Needs(_P.SCHEDULE_VIEW, _P.SCHEDULE_PLAN),
    "scheduling:participant_feed_create": Needs(_P.SCHEDULE_VIEW, _P.SCHEDULE_VIEW),
    "scheduling:participant_feed_revoke": Needs(_P.SCHEDULE_VIEW, _P.SCHEDULE_VIEW),
    "scheduling:track_move": Needs(_P.SCHEDULE_VIEW, _P.SCHEDULE_PLAN),
    "scheduling:track_alternatives": Needs(_P.SCHEDULE_VIEW, _P.SCHEDULE_PLAN),
    "clinical:participant_notes": Needs(_P.CLINICAL_VIEW, _READ_ONLY),
    "clinical:participant_note": Needs(_P.CLINICAL_VIEW, _P.CLINICAL_WRITE),
    "clinical:break_glass": Needs(_P.CLINICAL_VIEW, _P.CLINICAL_VIEW),
    "clinical:release_record": Needs(_P.CLINICAL_VIEW, _P.CLINICAL_VIEW),
    "clinical:participant_plan": Needs(_P.CLINICAL_VIEW, _READ_ONLY),
    **{f"clinical:plan_{verb}": Needs(_P.CLINICAL_WRITE, _P.CLINICAL_WRITE) for verb in (
        "start", "problem", "goal", "objective", "intervention", "status", "review",
        "acknowledge", "finish")},
    "clinical:plan_export": Needs(_P.CLINICAL_VIEW, _READ_ONLY),
    "clinical:plan_revision": Needs(_P.CLINICAL_VIEW, _READ_ONLY),
    "clinical:safety_plan": Needs(_P.CLINICAL_VIEW, _P.CLINICAL_WRITE),
    "clinical:safety_plan_export": Needs(_P.CLINICAL_VIEW, _READ_ONLY),
    "skills:participant_skills": Needs(_P.CLINICAL_VIEW, _READ_ONLY),
    "skills:homework_assign": Needs(_P.CLINICAL_WRITE, _P.CLINICAL_WRITE),
    "skills:homework_review": Needs(_P.CLINICAL_WRITE, _P.CLINICAL_WRITE),
    "skills:homework_close": Needs(_P.CLINICAL_WRITE, _P.CLINICAL_WRITE),
    "skills:relapse_plan": Needs(_P.CLINICAL_VIEW, _P.CLINICAL_WRITE),
    "outcomes:participant_measures": Needs(_P.CLINICAL_VIEW, _READ_ONLY),
    "outcomes:record_measure": Needs(_P.CLINICAL_WRITE, _P.CLINICAL_WRITE),
    "portal:staff_messages": Needs(_P.CLINICAL_VIEW, _P.CLINICAL_WRITE),
    "portal:staff_shared_note": Needs(_P.CLINICAL_VIEW, _P.CLINICAL_WRITE),
    "medications:participant_medications": Needs(_P.MEDICATION_VIEW, _READ_ONLY),
    **{f"medications:{name}": Needs(_P.MEDICATION_VIEW, _P.CLINICAL_WRITE) for name in (
        "adherence_add", "allergies", "allergy_status", "no_known_allergies",
        "naloxone_add", "reconcile", "side_effect_add", "screen_new", "use_disorder_add",
        "use_disorder_resolve")},
    "medications:administer": Needs(_P.MEDICATION_ADMINISTER, _P.MEDICATION_ADMINISTER),
    **{f"medications:{name}": Needs(_P.MEDICATION_VIEW, _P.MEDICATION_PRESCRIBE) for name in (
        "order_adjust", "order_stop", "order_new", "review_add")},
    "billing:participant_diagnoses": Needs(None, _P.CLINICAL_WRITE),
    **{f"billing:diagnosis_{change}": Needs(None, _P.CLINICAL_WRITE) for change in (
        "principal", "resolve", "entered_in_error")},
    "billing:participant_billing": Needs(_P.BILLING_VIEW, _READ_ONLY),
    "billing:ur_packet": Needs(_P.CLINICAL_VIEW, _READ_ONLY),
    "billing:ur_packet_pdf": Needs(_P.CLINICAL_VIEW, _READ_ONLY),
    "billing:statement": Needs(_P.BILLING_VIEW, _READ_ONLY),
    **{f"billing:{name}": Needs(_P.BILLING_MANAGE, _P.BILLING_MANAGE) for name in (
        "certification_add", "coverage_add", "authorization_add", "financial_profile")},
    "audit:participant_events": Needs(_P.AUDIT_VIEW, _READ_ONLY),
    "oauth2_provider:launch": Needs(_P.PARTICIPANT_VIEW, _READ_ONLY),
}


# Pages that show the break-the-glass form themselves instead of refusing: their views
# ask the policy and render the form (the persona walk checks the form is there).
GATE_PAGES: frozenset[str] = frozenset({
    "clinical:participant_notes", "clinical:participant_plan",
})


def page_kind(request: object) -> Kind | None:
    """The record kind of the page being served, or None (not a declared page, or a gate
    page whose view decides itself)."""
    match = getattr(request, "resolver_match", None)
    name = getattr(match, "view_name", None)
    if name is None or name in GATE_PAGES:
        return None
    return PAGE_KINDS.get(name)


# Which record kind each FHIR resource type carries.
FHIR_KINDS: dict[str, Kind] = {
    "Patient": Kind.DEMOGRAPHICS,
    "EpisodeOfCare": Kind.CARE,
    "Appointment": Kind.SCHEDULE,
    "Encounter": Kind.SCHEDULE,
    "Observation": Kind.MEASURES,
    "MedicationRequest": Kind.MEDICATIONS,
    "Condition": Kind.PROBLEMS,
    "Coverage": Kind.BILLING,
    "Consent": Kind.CONSENTS,
}


# --- The table for people: docs/access-policy.md ------------------------------------------

ROLE_ORDER = (ADMIN, DIRECTOR, CLINICIAN, PRESCRIBER, NURSE, INTAKE, FRONT_DESK, BILLING,
              PARTICIPANT, FAMILY)


def _cell(rules: dict[Rel, Rule]) -> str:
    if not rules:
        return "—"
    return "; ".join(f"{REL_LABELS[rel]}: {rules[rel]}" for rel in Rel if rel in rules)


def render_markdown() -> str:
    """The table as a compliance officer reads it (docs/access-policy.md)."""
    lines = [
        "# Who may see what: the access policy",
        "",
        "This page is generated from `src/openiop/access/policy.py` "
        "(`python -m openiop.access.render > docs/access-policy.md`); a test fails when the "
        "two differ. Every page, the JSON API and the FHIR server ask the same table.",
        "",
        "## Relationships",
        "",
    ]
    lines += [f"- **{REL_LABELS[rel]}**: {REL_MEANINGS[rel]}" for rel in Rel]
    lines += [
        "",
        "## Rules",
        "",
        "- **view**: may read. **change**: may read and write (the role's write permission "
        "still applies, e.g. only prescribers prescribe).",
        "- **not Part 2**: not when the participant's record is a 42 CFR Part 2 record (a "
        "Part 2 program, and an episode in a substance-use or co-occurring program); then "
        "only the care team reads it, or someone who breaks the glass.",
        "- Break the glass always gives **view** only, for 60 minutes, with a reason; every "
        "grant is audited and listed for the program director.",
        "- A user of another organization is answered \"not found\" for everything. A "
        "refused user of the same organization: the pages answer \"not found\" too (a page "
        "does not confirm what exists), the JSON API answers 403 with the reason, FHIR "
        "reads answer 404 and FHIR searches leave the records out. The Notes and Treatment "
        "plan tabs instead show the break-the-glass form.",
        "",
        "Record kinds that follow the care-team rule for a Part 2 participant: "
        + ", ".join(KIND_LABELS[k] for k in Kind if k in PART2_CARE_TEAM_KINDS) + ".",
        "",
    ]
    for kind in Kind:
        lines += [f"## {KIND_LABELS[kind]} (`{kind}`)", "", "| Role | Who |", "| --- | --- |"]
        for role in ROLE_ORDER:
            lines.append(f"| {Role(role).label} | {_cell(TABLE[kind].get(role, {}))} |")
        lines.append("")
    lines += ["## Family-access consent scopes", ""]
    for scope, kinds in FAMILY_SCOPE_KINDS.items():
        shown = ", ".join(KIND_LABELS[k] for k in Kind if k in kinds) or "no chart records"
        lines.append(f"- `{scope}`: {shown}")
    lines.append("")
    return "\n".join(lines)
