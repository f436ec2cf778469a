"""The verbs of curriculum, skills, homework, relapse prevention and holistic sessions.

Each function checks permission and input first (raising before anything is written),
then writes inside a transaction with its audit event.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.access.decisions import is_own_participant, require, require_organization
from openiop.access.policy import Kind
from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.care.models import Program
from openiop.core.exceptions import Conflict, InvalidTransition, NotPermitted
from openiop.participants.models import Participant
from openiop.scheduling.models import HOLISTIC_KINDS, Session

from .models import (
    SCORE_MAX,
    SCORE_MIN,
    CravingLog,
    HolisticNote,
    Homework,
    Module,
    RelapsePreventionPlan,
    Rotation,
    RotationItem,
    SessionModule,
    Skill,
    SkillPractice,
)

# Session kinds a rotation's modules are delivered in.
ROTATION_SESSION_KINDS: dict[str, tuple[str, ...]] = {
    Rotation.Kind.PSYCHOEDUCATION: ("psychoeducation",),
    Rotation.Kind.SKILLS: ("skills",),
    Rotation.Kind.FAMILY: ("family",),
}
# A log entry may be back-dated (people log after the fact) but not set in the future;
# a few minutes of slack absorbs phone clocks that run fast.
FUTURE_SLACK = timedelta(minutes=10)


# --- permission helpers -------------------------------------------------------------


def _require_staff_of(actor: User, organization_id: int, perm: Perm = Perm.CLINICAL_WRITE) -> None:
    """Staff with `perm` writing a row of their own organization (not a participant's)."""
    require_perm(actor, perm)
    require_organization(actor, organization_id, "This record belongs to another organization.")


def _require_team_for(actor: User, participant: Participant) -> None:
    """Clinical staff allowed to change this participant's skills records (the one access
    decision: for a Part 2 record, the care team only)."""
    require_perm(actor, Perm.CLINICAL_WRITE)
    require(actor, Kind.SKILLS, participant, action="change")


def _require_self_or_team(actor: User, participant: Participant) -> None:
    """The participant themself (portal) or clinical staff allowed by the access policy."""
    if is_own_participant(actor, participant):
        return
    _require_team_for(actor, participant)


def _score(value: Any, field: str, label: str) -> int:
    """A whole number on the 0-10 self-rating scale, else a ValidationError naming the field."""
    message = f"{label} must be a whole number from 0 to 10."
    if isinstance(value, bool):
        raise ValidationError({field: message})
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not re.fullmatch(r"-?\d{1,6}", text):
            raise ValidationError({field: message})
        number = int(text)
    if not SCORE_MIN <= number <= SCORE_MAX:
        raise ValidationError({field: f"{label} must be from 0 to 10; {number} is outside the scale."})
    return number


def _moment(value: datetime | None, field: str) -> datetime:
    moment = value or timezone.now()
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > timezone.now() + FUTURE_SLACK:
        raise ValidationError({field: "The time cannot be in the future."})
    return moment


def _text(value: str, field: str, limit: int, *, required: bool = False, label: str = "") -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: f"{label or field.replace('_', ' ').capitalize()} is required."})
    if len(text) > limit:
        raise ValidationError({field: f"Keep this under {limit} characters (it has {len(text)})."})
    return text


# --- curriculum ---------------------------------------------------------------------


def rotation_set(
    *,
    actor: User,
    program: Program,
    kind: str,
    modules: Sequence[Module],
    name: str = "",
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> Rotation:
    """Replace a program's rotation of `kind` with `modules` in order."""
    _require_staff_of(actor, program.organization_id)
    if kind not in Rotation.Kind.values:
        raise ValidationError({"kind": f"Unknown rotation kind {kind!r}."})
    if not modules:
        raise ValidationError({"modules": "Pick at least one module for the rotation."})
    ids = [m.pk for m in modules]
    if len(set(ids)) != len(ids):
        raise ValidationError({"modules": "Each module may appear only once in a rotation."})
    with transaction.atomic():
        rotation = Rotation.objects.select_for_update().filter(program=program, kind=kind).first()
        if rotation is None:
            rotation = Rotation.objects.create(
                program=program, kind=kind, name=name or Rotation.Kind(kind).label
            )
        else:
            if expected_version is not None and rotation.version != expected_version:
                raise Conflict("Someone changed this rotation since you opened it; reload and try again.")
            rotation.version += 1
            rotation.name = name or rotation.name
            rotation.save(update_fields=["version", "name", "updated_at"])
            rotation.items.all().delete()
        RotationItem.objects.bulk_create(
            [RotationItem(rotation=rotation, module=m, position=i) for i, m in enumerate(modules, 1)]
        )
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.ROTATION, object_id=rotation.code,
                     organization=program.organization, request=request)
    return rotation


def rotation_apply(
    *,
    actor: User,
    rotation: Rotation,
    start: date,
    end: date | None = None,
    request: HttpRequest | None = None,
) -> int:
    """Give the program's sessions of the rotation's kind from `start` their modules, in order.

    Sessions that already record a module keep it; the rotation continues after the
    last module delivered before `start`. Returns how many sessions got a module.
    """
    _require_staff_of(actor, rotation.program.organization_id)
    modules = [item.module for item in rotation.items.select_related("module").order_by("position")]
    if not modules:
        raise ValidationError({"modules": "The rotation has no modules yet."})
    kinds = ROTATION_SESSION_KINDS[rotation.kind]
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, datetime.min.time(), tzinfo=tz)
    sessions = Session.objects.filter(program=rotation.program, kind__in=kinds, starts_at__gte=since)
    if end is not None:
        sessions = sessions.filter(starts_at__lt=datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=tz))
    sessions = sessions.exclude(status=Session.Status.CANCELLED).order_by("starts_at", "pk")
    with transaction.atomic():
        taken = set(
            SessionModule.objects.filter(session__in=sessions).values_list("session_id", flat=True)
        )
        # Each track cycles through the rotation on its own, so every cohort gets every module.
        last = {
            track_id: module_id
            for track_id, module_id in SessionModule.objects.filter(
                session__program=rotation.program, session__kind__in=kinds, session__starts_at__lt=since
            ).order_by("session__starts_at").values_list("session__track_id", "module_id")
        }
        index_of = {m.pk: i for i, m in enumerate(modules)}
        cursor: dict[int | None, int] = {
            t: (index_of[m] + 1) % len(modules) for t, m in last.items() if m in index_of}
        rows = []
        for session in sessions.only("pk", "track_id"):
            if session.pk in taken:
                continue
            position = cursor.get(session.track_id, 0)
            rows.append(SessionModule(session=session, module=modules[position], recorded_by=actor))
            cursor[session.track_id] = (position + 1) % len(modules)
        SessionModule.objects.bulk_create(rows, batch_size=1000)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.ROTATION, object_id=rotation.code,
                     organization=rotation.program.organization, request=request,
                     reason=f"applied to {len(rows)} sessions from {start}")
    return len(rows)


def session_module_set(
    *, actor: User, session: Session, module: Module | None, request: HttpRequest | None = None
) -> SessionModule | None:
    """Record which module a session delivered (None clears it)."""
    _require_staff_of(actor, session.program.organization_id)
    with transaction.atomic():
        if module is None:
            SessionModule.objects.filter(session=session).delete()
            result = None
        else:
            result, _ = SessionModule.objects.update_or_create(
                session=session, defaults={"module": module, "recorded_by": actor}
            )
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.SESSION_MODULE,
                     object_id=session.code, organization=session.program.organization,
                     request=request)
    return result


# --- participant logs ---------------------------------------------------------------


def skill_practice_log(
    *,
    actor: User,
    participant: Participant,
    skill: Skill,
    helpfulness: Any,
    practiced_at: datetime | None = None,
    note: str = "",
    request: HttpRequest | None = None,
) -> SkillPractice:
    """Log one practice of a skill. Helpfulness is 0-10."""
    _require_self_or_team(actor, participant)
    score = _score(helpfulness, "helpfulness", "How helpful")
    when = _moment(practiced_at, "practiced_at")
    text = _text(note, "note", 1000)
    if not skill.is_active:
        raise ValidationError({"skill": "That skill is no longer in the catalog."})
    with transaction.atomic():
        entry = SkillPractice.objects.create(
            participant=participant, skill=skill, practiced_at=when, helpfulness=score,
            note=text, logged_by=actor,
        )
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.SKILL_PRACTICE,
                     object_id=entry.code, participant=participant, request=request)
    return entry


def craving_log(
    *,
    actor: User,
    participant: Participant,
    intensity: Any,
    occurred_at: datetime | None = None,
    trigger: str = "",
    situation: str = "",
    what_helped: str = "",
    used: bool = False,
    request: HttpRequest | None = None,
) -> CravingLog:
    """Log a craving or trigger. Intensity is 0-10."""
    _require_self_or_team(actor, participant)
    score = _score(intensity, "intensity", "Intensity")
    when = _moment(occurred_at, "occurred_at")
    with transaction.atomic():
        entry = CravingLog.objects.create(
            participant=participant, occurred_at=when, intensity=score,
            trigger=_text(trigger, "trigger", 200), situation=_text(situation, "situation", 1000),
            what_helped=_text(what_helped, "what_helped", 1000), used=bool(used), logged_by=actor,
        )
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.CRAVING_LOG,
                     object_id=entry.code, participant=participant, request=request)
    return entry


# --- homework -------------------------------------------------------------------------


def homework_assign(
    *,
    actor: User,
    participant: Participant,
    title: str,
    instructions: str,
    module: Module | None = None,
    plan_objective: str = "",
    due_on: date | None = None,
    request: HttpRequest | None = None,
) -> Homework:
    """A clinician assigns homework tied to a module or a treatment-plan objective."""
    _require_team_for(actor, participant)
    title = _text(title, "title", 200, required=True, label="Title")
    instructions = _text(instructions, "instructions", 5000, required=True, label="Instructions")
    objective = _text(plan_objective, "plan_objective", 300)
    if module is None and not objective:
        raise ValidationError(
            {"module": "Tie the homework to a module or to a treatment-plan objective."}
        )
    if due_on is not None and due_on < timezone.localdate():
        raise ValidationError({"due_on": "The due date cannot be in the past."})
    with transaction.atomic():
        homework = Homework.objects.create(
            participant=participant, module=module, plan_objective=objective, title=title,
            instructions=instructions, due_on=due_on, assigned_by=actor,
            assigned_at=timezone.now(),
        )
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.HOMEWORK, object_id=homework.code,
                     participant=participant, request=request)
    return homework


def homework_submit(
    *,
    actor: User,
    homework: Homework,
    response: str,
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> Homework:
    """The participant hands in (or updates) their answer while the homework is open."""
    participant = homework.participant
    if not is_own_participant(actor, participant):
        raise NotPermitted("Only the participant can hand in their homework.")
    if homework.status == Homework.Status.CLOSED:
        closed = timezone.localtime(homework.closed_at) if homework.closed_at else None
        when = f" on {closed:%b %-d, %Y}" if closed else ""
        raise InvalidTransition(
            f"This homework was closed{when} and no longer takes answers. "
            "Ask your therapist if you would like to hand it in anyway.",
            field="response",
        )
    if homework.status == Homework.Status.REVIEWED:
        raise InvalidTransition(
            "Your therapist has already reviewed this homework; it can no longer be changed.",
            field="response",
        )
    text = _text(response, "response", 5000, required=True, label="Your answer")
    with transaction.atomic():
        updated = Homework.objects.filter(
            pk=homework.pk, version=expected_version if expected_version is not None else homework.version,
            status__in=(Homework.Status.ASSIGNED, Homework.Status.COMPLETED),
        ).update(
            response=text, status=Homework.Status.COMPLETED, completed_at=timezone.now(),
            version=homework.version + 1,
        )
        if not updated:
            raise Conflict("This homework changed since you opened it; reload the page and try again.")
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.HOMEWORK, object_id=homework.code,
                     participant=participant, request=request, reason="submitted")
    homework.refresh_from_db()
    return homework


def homework_review(
    *,
    actor: User,
    homework: Homework,
    comment: str,
    close: bool = False,
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> Homework:
    """A clinician reviews a completed homework (and may close it at once)."""
    _require_team_for(actor, homework.participant)
    if homework.status != Homework.Status.COMPLETED:
        raise InvalidTransition(
            f"Only completed homework can be reviewed; this one is {homework.get_status_display().lower()}.",
            field="status",
        )
    text = _text(comment, "review_comment", 2000)
    now = timezone.now()
    with transaction.atomic():
        updated = Homework.objects.filter(
            pk=homework.pk, status=Homework.Status.COMPLETED,
            version=expected_version if expected_version is not None else homework.version,
        ).update(
            status=Homework.Status.CLOSED if close else Homework.Status.REVIEWED,
            review_comment=text, reviewed_by=actor, reviewed_at=now,
            closed_at=now if close else None, version=homework.version + 1,
        )
        if not updated:
            raise Conflict("The participant changed this homework since you opened it; reload and review again.")
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.HOMEWORK, object_id=homework.code,
                     participant=homework.participant, request=request, reason="reviewed")
    homework.refresh_from_db()
    return homework


def homework_close(*, actor: User, homework: Homework, request: HttpRequest | None = None) -> Homework:
    """Close a homework; afterwards the participant can no longer hand it in."""
    _require_team_for(actor, homework.participant)
    if homework.status == Homework.Status.CLOSED:
        raise InvalidTransition("This homework is already closed.", field="status")
    with transaction.atomic():
        Homework.objects.filter(pk=homework.pk).update(
            status=Homework.Status.CLOSED, closed_at=timezone.now(), version=homework.version + 1
        )
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.HOMEWORK, object_id=homework.code,
                     participant=homework.participant, request=request, reason="closed")
    homework.refresh_from_db()
    return homework


# --- relapse prevention -------------------------------------------------------------


def relapse_plan_save(
    *,
    actor: User,
    participant: Participant,
    sections: dict[str, str],
    expected_version: int | None,
    request: HttpRequest | None = None,
) -> RelapsePreventionPlan:
    """Create or update the plan; edits carry the version they were made against."""
    _require_self_or_team(actor, participant)
    values = {
        name: _text(sections.get(name, ""), name, 2000 if name == "people_to_call" else 4000)
        for name in RelapsePreventionPlan.SECTIONS
    }
    if not any(values.values()):
        raise ValidationError({"triggers": "Fill in at least one section of the plan."})
    with transaction.atomic():
        plan = RelapsePreventionPlan.objects.select_for_update().filter(participant=participant).first()
        if plan is None:
            plan = RelapsePreventionPlan.objects.create(participant=participant, updated_by=actor, **values)
            action = Action.CREATE
        else:
            if expected_version is None or plan.version != expected_version:
                raise Conflict(
                    "The plan was changed by someone else since you opened it. "
                    "Your text is still in the form: copy it, reload, and merge your changes."
                )
            for name, value in values.items():
                setattr(plan, name, value)
            plan.updated_by = actor
            plan.version += 1
            plan.save()
            action = Action.CHANGE
        audit_record(actor=actor, action=action, object_type=ObjectType.RELAPSE_PLAN, object_id=plan.code,
                     participant=participant, request=request)
    return plan


# --- holistic therapies ----------------------------------------------------------------


def holistic_note_save(
    *,
    actor: User,
    session: Session,
    activity: str,
    note: str = "",
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> HolisticNote:
    """The facilitator's short activity note for a mindfulness, yoga, art or exercise session."""
    _require_staff_of(actor, session.program.organization_id)
    if session.kind not in HOLISTIC_KINDS:
        raise ValidationError({"session": "Activity notes are for mindfulness, yoga, art and exercise sessions."})
    activity = _text(activity, "activity", 200, required=True, label="Activity")
    note = _text(note, "note", 1000)
    with transaction.atomic():
        existing = HolisticNote.objects.select_for_update().filter(session=session).first()
        if existing is None:
            result = HolisticNote.objects.create(session=session, activity=activity, note=note, written_by=actor)
        else:
            if expected_version is None or existing.version != expected_version:
                raise Conflict("Someone changed this note since you opened it; reload and try again.")
            existing.activity, existing.note, existing.written_by = activity, note, actor
            existing.version += 1
            existing.save()
            result = existing
        audit_record(actor=actor, action=Action.CHANGE if existing else Action.CREATE, object_type=ObjectType.HOLISTIC_NOTE,
                     object_id=session.code, organization=session.program.organization, request=request)
    return result


def program_holistic_set(
    *, actor: User, program: Program, counts: bool, request: HttpRequest | None = None
) -> int:
    """Decide whether the program's holistic sessions count toward weekly therapy hours.

    The program's switch changes its future holistic sessions too (past weeks keep what
    was true when they happened). Returns how many future sessions changed.
    """
    _require_staff_of(actor, program.organization_id, Perm.PROGRAM_MANAGE)
    with transaction.atomic():
        Program.objects.filter(pk=program.pk).update(holistic_counts_toward_hours=counts)
        program.holistic_counts_toward_hours = counts
        changed = Session.objects.filter(
            program=program, kind__in=sorted(HOLISTIC_KINDS), starts_at__gte=timezone.now()
        ).exclude(counts_toward_hours=counts).update(counts_toward_hours=counts)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.PROGRAM, object_id=program.code,
                     organization=program.organization, request=request,
                     reason=f"holistic counts toward hours: {'yes' if counts else 'no'}")
    return changed
