""""My work": what needs this staff member now, most urgent first, per role.

Every list comes from the owning app's selectors; this module only chooses, bounds and
orders them. Every row is one the user may open: the selectors get the user as `actor`
and apply `openiop.access.scope` (a Part 2 participant's rows reach only the care team).
Each section keeps its total and the first `LIMIT` rows, with a link to the
full list where one exists. Rows carry the one URL that opens the action.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import Role, User
from openiop.accounts.permissions import Perm, has_perm
from openiop.care.models import EpisodeOfCare
from openiop.clinical import timeliness
from openiop.clinical.selectors import notes_awaiting_signature, plan_reviews_due
from openiop.intake.models import Referral
from openiop.intake.selectors import referral_queue, safety_tasks_for
from openiop.medications import selectors as meds
from openiop.scheduling.selectors import compliance

LIMIT = 8
PLAN_REVIEW_WINDOW_DAYS = 7
REFERRAL_WAIT_OVERDUE_HOURS = 48  # director view: a new referral untouched for two days


@dataclass
class Row:
    what: str
    who: str  # the participant's (or referred person's) name; staff-only page
    when: str  # "2 days overdue", "waiting 3 h", "due Mon Dec 1"
    url: str
    level: str = "info"  # danger | warn | info
    action: str = "Open"
    tag: str = ""  # the badge's word; by default from the level

    @property
    def badge(self) -> str:
        return self.tag or {"danger": "Now", "warn": "Overdue"}.get(self.level, "Soon")


@dataclass
class Section:
    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    total: int = 0
    more_url: str = ""
    table: list[dict[str, Any]] | None = None  # director: counts per clinician

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.rows))


def _ago(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return f"{max(0, int(delta.total_seconds() // 60))} min"
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} days"


def _days(n: int, word: str = "overdue") -> str:
    return f"{n} day{'s' if n != 1 else ''} {word}"


def _bounded(key: str, title: str, rows: list[Row], total: int | None = None,
             more_url: str = "") -> Section:
    return Section(key, title, rows[:LIMIT], len(rows) if total is None else total, more_url)


def _caseload(user: User) -> Any:
    """Participant ids of the user's open episodes (primary therapist, prescriber or case
    manager), as a subquery."""
    return EpisodeOfCare.objects.filter(
        Q(primary_therapist=user) | Q(prescriber=user) | Q(case_manager=user),
        status__in=EpisodeOfCare.OPEN_STATUSES).values("participant_id")


# --- sections ---------------------------------------------------------------------------

def safety_section(user: User, now: datetime) -> Section:
    qs = safety_tasks_for(user=user)
    tasks = list(qs[:LIMIT])
    rows = []
    for t in tasks:
        if t.acknowledged_at:
            when, level = f"acknowledged {_ago(now - t.acknowledged_at)} ago", "warn"
        elif t.escalation_level:
            local = timezone.localtime(t.acknowledge_due_at)
            when, level = f"escalated; not acknowledged (next step {local:%a %-I:%M %p})", "danger"
        elif t.acknowledge_due_at and t.acknowledge_due_at < now:
            when, level = f"acknowledgement {_ago(now - t.acknowledge_due_at)} overdue", "danger"
        elif t.acknowledge_due_at:
            local = timezone.localtime(t.acknowledge_due_at)
            when, level = f"acknowledge by {local:%a %b %-d, %-I:%M %p}", "danger"
        else:
            when, level = f"opened {_ago(now - t.created_at)} ago", "danger"
        who = t.participant.display_name if t.participant else "Referred person"
        rows.append(Row(f"{t.get_priority_display()}: {t.title}", who, when,
                        reverse("dashboard:safety_task", kwargs={"task": t.code}), level,
                        "Acknowledge" if not t.acknowledged_at else "Resolve"))
    total = len(rows) if len(rows) < LIMIT else qs.count()
    return Section("safety", "Safety tasks", rows, total)


def notes_to_write_section(user: User, now: datetime) -> Section:
    mine = timeliness.note_timeliness(organization_id=user.staff_organization_id, now=now,
                                      clinician_id=user.pk)
    items = [s for c in mine for s in c.overdue_sessions + c.pending_sessions if not s["note_code"]]
    items.sort(key=lambda s: s["deadline"])
    rows = []
    for s in items:
        overdue = now > s["deadline"]
        ended = timezone.localtime(s["ended"])
        rows.append(Row(f"Write the {s['kind']} note: {s['title']}, {ended:%a %b %-d}", "",
                        f"{_ago(now - s['deadline'])} overdue" if overdue
                        else f"due in {_ago(s['deadline'] - now)}",
                        reverse("clinical:note_for_session",
                                kwargs={"session_code": s["session_code"]}),
                        "warn" if overdue else "info", "Write note"))
    return _bounded("notes_to_write", "Notes to write", rows,
                    more_url=reverse("clinical:index"))


def notes_to_sign_section(user: User) -> Section:
    qs = notes_awaiting_signature(user)
    rows = []
    for note in qs[:LIMIT]:
        cosign = note.author_id != user.pk
        who = note.participant.display_name if note.participant else "Group note"
        what = (f"Co-sign {note.get_kind_display().lower()} note by {note.author}" if cosign
                else f"Sign your {note.get_kind_display().lower()} note")
        rows.append(Row(what, who, f"started {timezone.localtime(note.created_at):%b %-d}",
                        reverse("clinical:note", kwargs={"code": note.code}), "warn",
                        "Co-sign" if cosign else "Sign"))
    total = len(rows) if len(rows) < LIMIT else qs.count()
    return Section("notes_to_sign", "Notes waiting for your signature", rows, total,
                   reverse("clinical:index"))


def plan_reviews_section(user: User, today: date, therapist_id: int | None) -> Section:
    qs = plan_reviews_due(organization_id=user.staff_organization_id, today=today,
                          within_days=PLAN_REVIEW_WINDOW_DAYS, therapist_id=therapist_id,
                          actor=user)
    rows = []
    for plan in qs[:LIMIT]:
        late = (today - plan.next_review_due).days
        rows.append(Row("Treatment-plan review", plan.participant.display_name,
                        _days(late) if late > 0 else
                        ("due today" if late == 0 else f"due {plan.next_review_due:%a %b %-d}"),
                        reverse("clinical:participant_plan", kwargs={"code": plan.participant.code}),
                        "warn" if late > 0 else "info", "Review"))
    total = len(rows) if len(rows) < LIMIT else qs.count()
    return Section("plan_reviews", "Treatment-plan reviews due", rows, total)


def drug_screens_section(user: User, today: date) -> Section:
    screens = meds.unexpected_screens(user.staff_organization_id, today,
                                      participant_ids=_caseload(user), actor=user)
    rows = [Row("Unexpected drug-screen result: "
                + ", ".join(r.label for r in s.unexpected_results), s.participant.display_name,
                f"collected {s.collected_on:%b %-d}",
                reverse("medications:participant_medications", kwargs={"code": s.participant.code}),
                "warn", "Review") for s in screens]
    return _bounded("drug_screens", "Unexpected drug-screen results", rows)


def weekly_minimum_section(user: User, today: date) -> Section:
    week_start = today - timedelta(days=today.weekday())
    organization = user.staff_profile.organization
    below = compliance(organization, week_start, participant_ids=_caseload(user))
    # Mid-week everyone is "below"; list those who cannot reach it as scheduled or missed.
    at_risk = [r for r in below if r.scheduled < r.minimum or r.absences]
    rows = [Row(f"Below weekly minimum: {r.attended / 60:.1f} h of {r.minimum / 60:.0f} h",
                r.participant.display_name, r.reason,
                reverse("scheduling:participant_schedule", kwargs={"code": r.participant.code}),
                "warn", "Schedule") for r in at_risk]
    return _bounded("weekly_minimum", "Below the weekly minimum this week", rows,
                    more_url=reverse("scheduling:compliance"))


def referrals_sections(user: User, now: datetime) -> list[Section]:
    qs = referral_queue(user=user, status=Referral.Status.NEW)
    out = []
    for key, title, sources in (
        ("contact_requests", "Contact requests", (Referral.Source.FINDER,)),
        ("self_checks", "Self-check submissions", (Referral.Source.SELF_CHECK,)),
        ("referrals", "New referrals", None),
    ):
        part = (qs.filter(source__in=sources) if sources else
                qs.exclude(source__in=(Referral.Source.FINDER, Referral.Source.SELF_CHECK)))
        part = part.order_by("-urgent", "received_at")
        rows = [Row(("Urgent: " if r.urgent else "") + f"{r.get_source_display()} referral",
                    r.name, f"waiting {_ago(now - r.received_at)}",
                    reverse("intake:referral", kwargs={"ref": r.code}),
                    "danger" if r.urgent else "warn" if now - r.received_at > timedelta(
                        hours=REFERRAL_WAIT_OVERDUE_HOURS) else "info", "Call back",
                    "Urgent" if r.urgent else "" if now - r.received_at > timedelta(
                        hours=REFERRAL_WAIT_OVERDUE_HOURS) else "New")
                for r in part[:LIMIT]]
        total = len(rows) if len(rows) < LIMIT else part.count()
        out.append(Section(key, title, rows, total, reverse("intake:referrals") + "?status=new"))
    return out


def waiting_referrals_section(user: User, now: datetime) -> Section:
    """Directors: new referrals nobody has started on for more than two days."""
    qs = (referral_queue(user=user, status=Referral.Status.NEW)
          .filter(received_at__lt=now - timedelta(hours=REFERRAL_WAIT_OVERDUE_HOURS))
          .order_by("received_at"))
    rows = [Row(f"{r.get_source_display()} referral not started", r.name,
                f"waiting {_ago(now - r.received_at)}",
                reverse("intake:referral", kwargs={"ref": r.code}), "warn", "Open")
            for r in qs[:LIMIT]]
    total = len(rows) if len(rows) < LIMIT else qs.count()
    return Section("referrals_waiting", "Referrals waiting more than two days", rows, total,
                   reverse("intake:referrals") + "?status=new")


def medication_sections(user: User, today: date) -> list[Section]:
    org_id = user.staff_organization_id
    prescriber_id = user.pk if user.role == Role.PRESCRIBER else None

    def med_url(p: Any) -> str:
        return reverse("medications:participant_medications", kwargs={"code": p.code})

    reviews = [Row("Medication review", r["participant"].display_name,
                   _days(r["days_overdue"]), med_url(r["participant"]), "warn", "Review")
               for r in meds.overdue_reviews(org_id, today, prescriber_id=prescriber_id,
                                                    actor=user)]
    warnings = [Row(f"Interaction warning not acknowledged: {r['warning'].title}",
                    r["participant"].display_name, r["warning"].severity,
                    med_url(r["participant"]), "danger" if r["warning"].severity == "high"
                    else "warn", "Review")
                for r in meds.unacknowledged_interactions(org_id, prescriber_id=prescriber_id,
                                                               actor=user)]
    naloxone = [Row("No naloxone on hand" if not r["never_checked"] else "Naloxone never asked",
                    r["participant"].display_name,
                    f"checked {r['checked_on']:%b %-d}" if r["checked_on"] else "never checked",
                    med_url(r["participant"]), "warn", "Record")
                for r in meds.naloxone_gaps(org_id, actor=user)]
    index = reverse("medications:index")
    return [_bounded("medication_reviews", "Medication reviews due", reviews, more_url=index),
            _bounded("interactions", "Unacknowledged interaction warnings", warnings,
                     more_url=index),
            _bounded("naloxone", "Naloxone gaps", naloxone, more_url=index)]


def director_sections(user: User, now: datetime, today: date) -> list[Section]:
    """Everything overdue across the organization, and counts per clinician."""
    org_id = user.staff_organization_id
    notes = timeliness.note_timeliness(organization_id=org_id, now=now)
    plans = list(plan_reviews_due(organization_id=org_id, today=today - timedelta(days=1),
                                  within_days=0).values_list("episode__primary_therapist_id",
                                                              flat=True))
    tasks = list(safety_tasks_for(user=user).values_list(
        "assigned_to_id", "acknowledged_at", "acknowledge_due_at", "escalation_level"))
    # Not acknowledged in time: past the deadline now, or escalated already (escalation
    # moves the deadline forward).
    overdue_tasks = Counter(a for a, ack, due, level in tasks
                            if ack is None and (level or (due and due < now)))
    open_tasks = Counter(a for a, _ack, _due, _level in tasks)
    plan_counts = Counter(plans)
    note_counts = {c.user_id: c.overdue for c in notes}
    ids = {i for i in [*open_tasks, *plan_counts, *note_counts] if i is not None}
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=ids)}
    table = sorted(({"name": names.get(i, "?"), "safety": open_tasks.get(i, 0),
                     "safety_overdue": overdue_tasks.get(i, 0),
                     "notes_overdue": note_counts.get(i, 0), "plans_overdue": plan_counts.get(i, 0)}
                    for i in ids), key=lambda r: (-r["safety_overdue"], -r["safety"],
                                                  -r["notes_overdue"], r["name"]))
    unassigned = open_tasks.get(None, 0)
    if unassigned:
        table.insert(0, {"name": "Nobody assigned", "safety": unassigned,
                         "safety_overdue": overdue_tasks.get(None, 0), "notes_overdue": 0,
                         "plans_overdue": 0})
    summary = Section("per_clinician", "Overdue across the program, per clinician",
                      total=sum(overdue_tasks.values()) + sum(note_counts.values()) + len(plans),
                      more_url=reverse("clinical:index"))
    summary.table = table[:25]
    return [summary]


def certification_section(user: User, today: date) -> Section:
    """Medicare IOP certifications missing, overdue or due within the week (billing)."""
    from openiop.billing.selectors import certification_warnings

    rows = [Row({"missing": "Medicare IOP certification missing",
                 "overdue": "Medicare IOP recertification overdue",
                 "due_soon": "Medicare IOP recertification due"}[w.kind], w.participant_name,
                f"due {w.due:%a %b} {w.due.day}", w.url,
                "info" if w.kind == "due_soon" else "warn", action="Record")
            for w in certification_warnings(organization_id=user.staff_organization_id,
                                            today=today)]
    return _bounded("certifications", "Medicare certifications", rows,
                    more_url=reverse("billing:index"))


AUTH_REVIEW_WINDOW_DAYS = 7  # My work shows concurrent reviews due within the week


def authorization_section(user: User, today: date) -> Section:
    """Authorizations needing the billing office: a concurrent review due within the week,
    80 % or more of the units used, ending within AUTH_ENDING_DAYS (what the periodic notice
    to billing staff is about), sessions booked on days no active authorization covers
    (billing.selectors.authorization_warnings: four queries whatever the clinic's size).
    Each row opens the authorization's row on the participant's Billing tab."""
    from openiop.billing.selectors import AUTH_ENDING_DAYS, authorization_warnings

    warnings = authorization_warnings(organization_id=user.staff_organization_id, today=today,
                                      review_within_days=AUTH_REVIEW_WINDOW_DAYS,
                                      ending_within_days=AUTH_ENDING_DAYS)
    rows = []
    for w in warnings:
        what = {"review_due": f"Concurrent review due: authorization {w.reference}",
                "units_80": f"Authorization {w.reference} nearly used up",
                "ends_soon": f"Authorization {w.reference} ends soon",
                "outside_authorization": "Sessions scheduled outside an authorization"}[w.kind]
        if w.kind == "review_due":
            days = (w.due - today).days if w.due else 0
            when = "due today" if days == 0 else f"due {w.due:%a %b} {w.due.day}"
        else:
            when = w.message
        rows.append(Row(what, w.participant_name, when, w.url,
                        "info" if w.kind == "review_due" else "warn",
                        action="Open authorization" if w.reference else "Open billing",
                        tag="Soon" if w.kind == "review_due" else "Check"))
    return _bounded("authorizations", "Authorizations", rows, more_url=reverse("billing:index"))


# --- the page -------------------------------------------------------------------------------

CLINICAL_ROLES = (Role.CLINICIAN, Role.PRESCRIBER, Role.NURSE)


def my_work(user: User, *, now: datetime | None = None) -> list[Section]:
    """The sections of the user's My work, in order of urgency; empty ones are dropped."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    role = user.role
    sections: list[Section] = []
    if has_perm(user, Perm.CLINICAL_WRITE):
        sections.append(safety_section(user, now))
    if role in CLINICAL_ROLES:
        sections += [notes_to_sign_section(user), notes_to_write_section(user, now)]
    if role == Role.CLINICIAN:
        sections += [plan_reviews_section(user, today, user.pk), drug_screens_section(user, today),
                     weekly_minimum_section(user, today)]
    if role in (Role.PRESCRIBER, Role.NURSE):
        sections += medication_sections(user, today)
    if role == Role.INTAKE:
        sections += referrals_sections(user, now)
    if role in (Role.BILLING, Role.DIRECTOR, Role.ADMIN) and has_perm(user, Perm.BILLING_VIEW):
        sections += [certification_section(user, today), authorization_section(user, today)]
    if role in (Role.DIRECTOR, Role.ADMIN):
        sections += [notes_to_sign_section(user), *director_sections(user, now, today),
                     plan_reviews_section(user, today, None),
                     medication_sections(user, today)[0], waiting_referrals_section(user, now)]
    return [s for s in sections if s.total]


def count(sections: list[Section]) -> int:
    """The number in the navigation: items needing action (the per-clinician summary is a
    view of the others, so it does not count twice)."""
    return sum(s.total for s in sections if s.table is None)
