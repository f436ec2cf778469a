"""The staff navigation and the participant chart tabs, as data.

Each entry names a URL; entries whose URL does not exist (an app not built yet) or
whose permission the user lacks are left out, so apps add pages without editing
a shared template.
"""

from __future__ import annotations

from dataclasses import dataclass

from openiop.accounts.permissions import Perm


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    perm: Perm | tuple[Perm, ...] | None = None  # a tuple: any one of them is enough
    section: str = ""  # URL prefix that marks the item as current
    # Administrative pages opened now and then: folded under "More" in the bar when a user
    # has two or more of them (base.html), so the director's bar stays one line at 1366 px.
    secondary: bool = False

    def allowed(self, user: object) -> bool:
        from openiop.accounts.permissions import has_perm

        if self.perm is None:
            return True
        perms = self.perm if isinstance(self.perm, tuple) else (self.perm,)
        return any(has_perm(user, p) for p in perms)


STAFF_NAV: tuple[NavItem, ...] = (
    NavItem("My work", "dashboard:my_work", None, "/dashboard"),
    NavItem("Participants", "participants:list", Perm.PARTICIPANT_VIEW, "/participants"),
    NavItem("Referrals", "intake:referrals", Perm.INTAKE_MANAGE, "/intake"),
    NavItem("Schedule", "scheduling:index", Perm.SCHEDULE_VIEW, "/schedule"),
    NavItem("Notes", "clinical:index", Perm.CLINICAL_VIEW, "/notes"),
    NavItem("Curriculum", "skills:index", Perm.CLINICAL_VIEW, "/skills"),
    NavItem("Medications", "medications:index", Perm.MEDICATION_VIEW, "/medications"),
    NavItem("Outcomes", "outcomes:index", Perm.REPORTS_VIEW, "/outcomes"),
    NavItem("Billing", "billing:index", Perm.BILLING_VIEW, "/billing"),
    NavItem("Programs", "care:programs", Perm.PARTICIPANT_VIEW, "/programs", secondary=True),
    NavItem("Audit", "audit:events", Perm.AUDIT_VIEW, "/audit", secondary=True),
    NavItem("Staff", "accounts:staff", Perm.STAFF_MANAGE, "/accounts/staff", secondary=True),
    NavItem("Jobs", "jobs:list", Perm.PROGRAM_MANAGE, "/jobs", secondary=True),
)

# Participant chart tabs: (label, url name taking the participant's code).
CHART_TABS: tuple[NavItem, ...] = (
    NavItem("Overview", "participants:chart", Perm.PARTICIPANT_VIEW),
    NavItem("Diagnoses", "billing:participant_diagnoses", (Perm.CLINICAL_VIEW, Perm.BILLING_VIEW)),
    NavItem("Care", "care:participant_care", Perm.PARTICIPANT_VIEW),
    NavItem("Schedule", "scheduling:participant_schedule", Perm.SCHEDULE_VIEW),
    NavItem("Notes", "clinical:participant_notes", Perm.CLINICAL_VIEW),
    NavItem("Treatment plan", "clinical:participant_plan", Perm.CLINICAL_VIEW),
    NavItem("Measures", "outcomes:participant_measures", Perm.CLINICAL_VIEW),
    NavItem("Skills", "skills:participant_skills", Perm.CLINICAL_VIEW),
    NavItem("Medications", "medications:participant_medications", Perm.MEDICATION_VIEW),
    NavItem("Consents", "participants:consents", Perm.PARTICIPANT_VIEW),
    NavItem("Billing", "billing:participant_billing", Perm.BILLING_VIEW),
    NavItem("Access log", "audit:participant_events", Perm.AUDIT_VIEW),
)
