"""The verbs of an episode of care: admit (or waitlist), change level, authorize, discharge.

Every function checks first and raises a named error before anything is written
(`InvalidTransition` for a state that does not allow the change, `ValidationError` naming
the field, `TrackFull` when the last seat is gone), then writes in one transaction with
its audit event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import Role, User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import Conflict, InvalidTransition, NotPermitted

from .gates import intake_desk
from .levels import POPULATION_AGES, LevelOfCare, is_step_up
from .models import Discharge, Enrollment, EpisodeOfCare, LevelOfCareChange, Program, Track

if TYPE_CHECKING:
    from openiop.participants.models import Participant


class TrackFull(Conflict):
    """Every seat of the track is taken; the caller may offer its waitlist."""

    def __init__(self, track: Track, enrolled: int) -> None:
        waiting = track.enrollments.filter(status=Enrollment.Status.WAITLISTED).count()
        super().__init__(
            f"{track} is full ({enrolled} of {track.capacity} seats taken; {waiting} waiting). "
            "Add the person to its waitlist, or choose another track.",
            field="track",
        )
        self.track = track
        self.waiting = waiting


def _same_org(actor: User, *objs: Any) -> None:
    """The one access decision: a participant's episodes of care may be changed by this
    actor (another organization: not found); any other row must be the actor's
    organization's."""
    from openiop.access.decisions import require, require_organization
    from openiop.access.policy import Kind
    from openiop.participants.models import Participant

    for obj in objs:
        if isinstance(obj, Participant):
            require(actor, Kind.CARE, obj, action="change")
        elif obj is not None:
            require_organization(actor, getattr(obj, "organization_id", None),
                                 "That record belongs to another organization.")


def require_level_decider(actor: User, what: str) -> None:
    """Only a licensed clinician (a credential in accounts.models.ASSESSMENT_CREDENTIALS)
    decides or overrides a level of care; NotPermitted names what was refused."""
    if not getattr(actor, "may_decide_level_of_care", False):
        raise NotPermitted(
            f"Only a licensed clinician (a credential that permits assessment, such as LCSW, "
            f"LPC, LMFT, psychologist, MD or NP) can {what}. You can record screenings and "
            "propose a level for one to confirm.")


def _with_notes(reason: str, *, exception: str = "", safety: str = "") -> str:
    """The audit reason: what happened, and that a written reason was kept on the record
    (the text itself stays on the record, out of the audit trail)."""
    notes = []
    if exception:
        notes.append("without assessment, reason documented")
    if safety:
        notes.append("open safety task, decision documented")
    return "; ".join([reason, *notes])


def _check_team(actor: User, members: dict[str, Any]) -> None:
    org_id = actor.staff_organization_id
    errors = {}
    for field, user in members.items():
        if user is not None and getattr(user, "staff_organization_id", None) != org_id:
            errors[field] = "Choose a member of this organization's staff."
    if errors:
        raise ValidationError(errors)


def check_population(participant: Participant, program: Program, on: date) -> None:
    """Refuse a program whose population does not admit the person's age on `on`."""
    low, high = POPULATION_AGES[program.population]
    age = participant.age_on(on)
    if not low <= age <= high:
        raise InvalidTransition(
            f"{program.name} admits {program.get_population_display().lower()}; "
            f"{participant.display_name} is {age} on {on:%b %-d, %Y}.",
            field="program",
        )


def active_count(track: Track) -> int:
    return track.enrollments.filter(status=Enrollment.Status.ACTIVE).count()


def episode_admit(
    *,
    actor: User,
    participant: Participant,
    program: Program,
    track: Track,
    level_of_care: str | None = None,
    admitted_on: date | None = None,
    primary_therapist: User | None = None,
    prescriber: User | None = None,
    case_manager: User | None = None,
    authorized_level_of_care: str = "",
    referral: Any = None,
    waitlist: bool = False,
    admission_exception: str = "",
    safety_decision: str = "",
    request: HttpRequest | None = None,
) -> EpisodeOfCare:
    """Admit into `program` with a seat in `track`, or put on the track's waitlist.

    - The Track row is locked (`select_for_update`) while seats are counted, so two
      simultaneous admissions for the last seat cannot both succeed: the second gets
      TrackFull (or a waitlist place when `waitlist` is true).
    - One open episode per participant per program; the program's population must admit
      the person's age on the admission date.
    - The level of care comes from a decided level-of-care assessment (of the referral when
      given). Without one (no screening and assessment), a licensed clinician admits with
      `admission_exception`, the written reason, kept on the episode and audited; a level
      other than the decided one is an override only a licensed clinician makes.
    - While an emergent or urgent safety task is open, `safety_decision` documents why the
      admission goes ahead (docs/safety-decisions.md, section 5).
    - Side effects: EpisodeOfCare + Enrollment, the referral (if any) marked admitted (or
      waitlisted in this program), audit events.
    """
    desk = intake_desk()
    require_perm(actor, Perm.ADMIT)
    _same_org(actor, participant, program)
    decision = desk.decided_assessment(participant=participant, referral=referral)
    exception = (admission_exception or "").strip()
    if decision is None:
        if not exception:
            raise ValidationError({"admission_exception": (
                "There is no intake screening with a decided level-of-care assessment for "
                "this person. Complete them, or write down why the admission cannot wait "
                "(a licensed clinician admits then).")})
        require_level_decider(actor, "admit without a level-of-care assessment")
    else:
        exception = ""
        if level_of_care and level_of_care != decision.decided_level:
            require_level_decider(actor, f"admit at {level_of_care} when the decided level is "
                             f"{decision.decided_level}")
    level_of_care = level_of_care or (decision.decided_level if decision else None)
    admitted_on = admitted_on or timezone.localdate()
    level = level_of_care or program.level_of_care
    errors: dict[str, str] = {}
    if track.program_id != program.pk:
        errors["track"] = "Choose a track of this program."
    if level not in LevelOfCare.values:
        errors["level_of_care"] = f"Choose one of {', '.join(LevelOfCare.values)}."
    if authorized_level_of_care and authorized_level_of_care not in LevelOfCare.values:
        errors["authorized_level_of_care"] = f"Choose one of {', '.join(LevelOfCare.values)}."
    if admitted_on > timezone.localdate() + timedelta(days=60):
        errors["admitted_on"] = "Admission can be at most 60 days ahead."
    if not program.is_active or not track.is_active:
        errors["track"] = "This program or track is not taking admissions."
    if errors:
        raise ValidationError(errors)
    check_population(participant, program, admitted_on)
    _check_team(actor, {"primary_therapist": primary_therapist, "prescriber": prescriber,
                        "case_manager": case_manager})
    if referral is not None and not referral.is_open:
        raise InvalidTransition(f"The referral is already {referral.get_status_display().lower()}.",
                                field="referral")
    safety = desk.require_safety_decision(participant=participant, decision=safety_decision,
                                          action="admission")
    try:
        with transaction.atomic():
            locked = Track.objects.select_for_update().get(pk=track.pk)
            if EpisodeOfCare.objects.filter(
                participant=participant, program=program,
                status__in=EpisodeOfCare.OPEN_STATUSES,
            ).exists():
                raise InvalidTransition(
                    f"{participant.display_name} already has an open episode in "
                    f"{program.name}; discharge it before a readmission.", field="program")
            enrolled = active_count(locked)
            full = enrolled >= locked.capacity
            if full and not waitlist:
                raise TrackFull(locked, enrolled)
            on_waitlist = full
            episode = EpisodeOfCare.objects.create(
                participant=participant, program=program,
                status=EpisodeOfCare.Status.WAITLIST if on_waitlist else EpisodeOfCare.Status.ACTIVE,
                level_of_care=level, authorized_level_of_care=authorized_level_of_care,
                admitted_on=admitted_on, primary_therapist=primary_therapist,
                prescriber=prescriber, case_manager=case_manager,
                admission_exception=exception, admission_safety_decision=safety,
            )
            Enrollment.objects.create(
                episode=episode, track=locked, start_date=admitted_on,
                status=Enrollment.Status.WAITLISTED if on_waitlist else Enrollment.Status.ACTIVE,
            )
            if referral is not None:
                desk.mark_referral(episode=episode, referral=referral, waitlisted=on_waitlist)
            audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.EPISODE,
                         object_id=episode.code, participant=participant, request=request,
                         reason=_with_notes("waitlisted" if on_waitlist else "admitted",
                                            exception=exception, safety=safety))
    except IntegrityError as exc:
        # The partial unique index caught a concurrent duplicate admission.
        raise InvalidTransition(
            f"{participant.display_name} already has an open episode in {program.name}.",
            field="program") from exc
    return episode


def waitlist_admit(
    *, actor: User, episode: EpisodeOfCare, admitted_on: date | None = None,
    safety_decision: str = "", request: HttpRequest | None = None,
) -> EpisodeOfCare:
    """Give a waitlisted episode the seat that opened in its track; its referral (status
    "waitlisted") is marked admitted. An open emergent or urgent safety task needs
    `safety_decision`."""
    desk = intake_desk()
    require_perm(actor, Perm.ADMIT)
    _same_org(actor, episode.participant)
    if episode.status != EpisodeOfCare.Status.WAITLIST:
        raise InvalidTransition("Only a waitlisted episode can be admitted from the waitlist.",
                                field="status")
    admitted_on = admitted_on or timezone.localdate()
    safety = desk.require_safety_decision(participant=episode.participant,
                                          decision=safety_decision, action="admission")
    with transaction.atomic():
        enrollment = episode.enrollments.select_related("track").get(
            status=Enrollment.Status.WAITLISTED)
        locked = Track.objects.select_for_update().get(pk=enrollment.track_id)
        enrolled = active_count(locked)
        if enrolled >= locked.capacity:
            raise TrackFull(locked, enrolled)
        Enrollment.objects.filter(pk=enrollment.pk).update(
            status=Enrollment.Status.ACTIVE, start_date=admitted_on)
        changes: dict[str, Any] = {"admission_safety_decision": safety} if safety else {}
        _cas_episode(episode, expected=(EpisodeOfCare.Status.WAITLIST,),
                     status=EpisodeOfCare.Status.ACTIVE, admitted_on=admitted_on, **changes)
        desk.mark_referral(episode=episode)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.EPISODE,
                     object_id=episode.code, participant=episode.participant, request=request,
                     reason=_with_notes("admitted from waitlist", safety=safety))
    return episode


def _cas_episode(episode: EpisodeOfCare, *, expected: Sequence[str], version: int | None = None,
                 **changes: Any) -> None:
    qs = EpisodeOfCare.objects.filter(pk=episode.pk, status__in=expected)
    if version is not None:
        qs = qs.filter(version=version)
    if qs.update(version=episode.version + 1, **changes) != 1:
        current = EpisodeOfCare.objects.filter(pk=episode.pk).values_list("status", flat=True).first()
        if current not in expected:
            raise InvalidTransition(f"This episode is {current}; the change was refused.",
                                    field="status")
        raise Conflict("Someone else changed this episode after you opened it. Reload and try "
                       "again; nothing was saved.", field="version")
    for k, v in changes.items():
        setattr(episode, k, v)
    episode.version += 1


def episode_change_level(
    *,
    actor: User,
    episode: EpisodeOfCare,
    to_level: str,
    effective_on: date,
    reason: str,
    criteria_met: Sequence[str] = (),
    to_track: Track | None = None,
    direction: str | None = None,
    version: int | None = None,
    safety_decision: str = "",
    request: HttpRequest | None = None,
) -> LevelOfCareChange:
    """Record a step-up or step-down and move the episode's clinical level.

    `direction` ("up"/"down"), when given, must match the change. Refused: a closed
    episode, the same level, a date before admission or before the last change, no reason.
    With `to_track` the person moves to that track's seat (capacity enforced).
    Only a licensed clinician decides (`User.may_decide_level_of_care`). A step-down after a
    suicide-risk flag needs a C-SSRS of this episode within the program's window, and while
    an emergent or urgent safety task is open a `safety_decision` (docs/safety-decisions.md);
    a step-up, toward more care, is never held back for them.
    """
    desk = intake_desk()
    require_perm(actor, Perm.ADMIT)
    _same_org(actor, episode.participant)
    require_level_decider(actor, "step a level of care up or down")
    if episode.status != EpisodeOfCare.Status.ACTIVE:
        raise InvalidTransition(
            f"Only an active episode changes level; this one is {episode.get_status_display().lower()}.",
            field="status")
    if to_level not in LevelOfCare.values:
        raise ValidationError({"to_level": f"Choose one of {', '.join(LevelOfCare.values)}."})
    if to_level == episode.level_of_care:
        raise InvalidTransition(
            f"The episode is already at {episode.get_level_of_care_display()}; a step-up or "
            "step-down must change the level.", field="to_level")
    actual = "up" if is_step_up(episode.level_of_care, to_level) else "down"
    if direction and direction != actual:
        word = "higher" if direction == "up" else "lower"
        raise InvalidTransition(
            f"A step-{direction} goes to a {word} level; {to_level} is not {word} than "
            f"{episode.level_of_care}.", field="to_level")
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = "Give the reason for the change."
    if effective_on < episode.admitted_on:
        errors["effective_on"] = "The change cannot take effect before the admission date."
    last = episode.level_changes.order_by("-effective_on").first()
    if last is not None and effective_on < last.effective_on:
        errors["effective_on"] = (f"The last change took effect on {last.effective_on:%b %-d, %Y}; "
                                  "a new one cannot be earlier.")
    if to_track is not None and to_track.program.organization_id != actor.staff_organization_id:
        errors["to_track"] = "Choose a track of this organization."
    if errors:
        raise ValidationError(errors)
    safety = ""
    if actual == "down":
        # A step-up moves toward more care and is never held back for a screen; a step-down
        # after a risk flag needs the C-SSRS and, with a task open, a documented decision.
        desk.require_safety_screen(participant=episode.participant, episode=episode)
        safety = desk.require_safety_decision(participant=episode.participant,
                                              decision=safety_decision, action="step-down")
    criteria = [c.strip() for c in criteria_met if c and c.strip()]
    with transaction.atomic():
        current = episode.enrollments.filter(status=Enrollment.Status.ACTIVE).select_related(
            "track").first()
        if to_track is not None and (current is None or current.track_id != to_track.pk):
            locked = Track.objects.select_for_update().get(pk=to_track.pk)
            enrolled = active_count(locked)
            if enrolled >= locked.capacity:
                raise TrackFull(locked, enrolled)
            if current is not None:
                Enrollment.objects.filter(pk=current.pk).update(
                    status=Enrollment.Status.ENDED, end_date=effective_on)
            Enrollment.objects.create(episode=episode, track=locked, start_date=effective_on)
        change = LevelOfCareChange.objects.create(
            episode=episode, from_level=episode.level_of_care, to_level=to_level,
            direction=actual, effective_on=effective_on, reason=reason.strip(),
            criteria_met=criteria, from_track=current.track if current else None,
            to_track=to_track if to_track is not None else (current.track if current else None),
            recorded_by=actor, safety_decision=safety,
        )
        _cas_episode(episode, expected=(EpisodeOfCare.Status.ACTIVE,), version=version,
                     level_of_care=to_level)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.EPISODE,
                     object_id=episode.code, participant=episode.participant, request=request,
                     reason=_with_notes(f"step-{actual} {change.from_level}->{to_level}",
                                        safety=safety))
    return change


def episode_step_down(**kwargs: Any) -> LevelOfCareChange:
    return episode_change_level(direction="down", **kwargs)


def episode_step_up(**kwargs: Any) -> LevelOfCareChange:
    return episode_change_level(direction="up", **kwargs)


def episode_set_authorized_level(
    *, actor: User, episode: EpisodeOfCare, level: str, version: int | None = None,
    request: HttpRequest | None = None,
) -> EpisodeOfCare:
    """Record the level the payer authorized; it may differ from the clinical level, and the
    chart flags the mismatch. An empty level clears it."""
    require_perm(actor, Perm.ADMIT)
    _same_org(actor, episode.participant)
    if level and level not in LevelOfCare.values:
        raise ValidationError({"authorized_level_of_care":
                               f"Choose one of {', '.join(LevelOfCare.values)}."})
    with transaction.atomic():
        _cas_episode(episode, expected=EpisodeOfCare.OPEN_STATUSES, version=version,
                     authorized_level_of_care=level)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.EPISODE,
                     object_id=episode.code, participant=episode.participant, request=request,
                     reason="authorized level")
    return episode


# Who may be named as a participant's family therapist: staff who hold a therapy role (the
# roles a primary therapist is chosen from at admission). The planner books family sessions
# with the one named (scheduling.planning).
THERAPIST_ROLES = (Role.CLINICIAN, Role.DIRECTOR)


def family_therapist_choices(organization_id: int | None) -> Any:
    """Active staff of the organization holding a therapy role, by last name."""
    if organization_id is None:
        return User.objects.none()
    return User.objects.filter(
        staff_profile__organization_id=organization_id, staff_profile__is_active=True,
        is_active=True, role__in=THERAPIST_ROLES).order_by("last_name", "first_name")


def episode_set_family_therapist(
    *, actor: User, episode: EpisodeOfCare, family_therapist: User | None,
    version: int | None = None, request: HttpRequest | None = None,
) -> EpisodeOfCare:
    """Name the care team's family therapist on an open episode (None clears it).

    Refused (ValidationError on `family_therapist`) unless the person is an active staff
    member of the actor's organization holding a therapy role (THERAPIST_ROLES). A
    version-guarded update; side effect: an audit event in the same transaction. The
    weekly planner then books the participant's family sessions with this therapist
    unless they cannot take one that week, and the plan says why.
    """
    require_perm(actor, Perm.ADMIT)
    _same_org(actor, episode.participant)
    if family_therapist is not None and not family_therapist_choices(
            actor.staff_organization_id).filter(pk=family_therapist.pk).exists():
        raise ValidationError({"family_therapist": (
            "Choose an active staff member of this organization who holds a therapy role "
            "(clinician or program director).")})
    with transaction.atomic():
        _cas_episode(episode, expected=EpisodeOfCare.OPEN_STATUSES, version=version,
                     family_therapist=family_therapist)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.EPISODE,
                     object_id=episode.code, participant=episode.participant, request=request,
                     reason="family therapist named" if family_therapist else
                     "family therapist cleared")
    return episode


def episode_discharge(
    *,
    actor: User,
    episode: EpisodeOfCare,
    discharged_on: date,
    reason: str,
    summary: str,
    next_provider: str = "",
    aftercare_appointments: str = "",
    medications: str = "",
    supports: str = "",
    safety_decision: str = "",
    request: HttpRequest | None = None,
) -> Discharge:
    """Close the episode with a discharge summary and aftercare plan; end its enrollments.

    Refused for an episode that is not open (discharging twice), a date before admission or
    in the future, and a planned discharge (completed, stepped down/up, transferred)
    without a next provider. While an emergent or urgent safety task is open,
    `safety_decision` documents why the discharge goes ahead (docs/safety-decisions.md,
    section 5).
    """
    desk = intake_desk()
    require_perm(actor, Perm.ADMIT)
    _same_org(actor, episode.participant)
    if not episode.is_open:
        when = f" on {episode.discharged_on:%b %-d, %Y}" if episode.discharged_on else ""
        raise InvalidTransition(f"This episode was already closed{when}; it cannot be "
                                "discharged again.", field="status")
    errors = {}
    if reason not in Discharge.Reason.values:
        errors["reason"] = f"Choose one of {', '.join(Discharge.Reason.values)}."
    if not (summary or "").strip():
        errors["summary"] = "Write a short discharge summary."
    if discharged_on < episode.admitted_on:
        errors["discharged_on"] = "Discharge cannot be before the admission date."
    if discharged_on > timezone.localdate():
        errors["discharged_on"] = "Discharge cannot be in the future."
    last = episode.level_changes.order_by("-effective_on").first()
    if last is not None and discharged_on < last.effective_on:
        errors["discharged_on"] = (f"The last level change took effect on "
                                   f"{last.effective_on:%b %-d, %Y}; discharge cannot be earlier.")
    planned = (Discharge.Reason.COMPLETED, Discharge.Reason.STEPPED_DOWN,
               Discharge.Reason.STEPPED_UP, Discharge.Reason.TRANSFERRED)
    if reason in planned and not (next_provider or "").strip():
        errors["next_provider"] = "A planned discharge names the next provider for aftercare."
    if errors:
        raise ValidationError(errors)
    safety = desk.require_safety_decision(participant=episode.participant,
                                          decision=safety_decision, action="discharge")
    with transaction.atomic():
        _cas_episode(episode, expected=EpisodeOfCare.OPEN_STATUSES,
                     status=EpisodeOfCare.Status.FINISHED, discharged_on=discharged_on)
        episode.enrollments.filter(
            Q(status=Enrollment.Status.ACTIVE) | Q(status=Enrollment.Status.WAITLISTED)
        ).update(status=Enrollment.Status.ENDED, end_date=discharged_on)
        discharge = Discharge.objects.create(
            episode=episode, discharged_on=discharged_on, reason=reason,
            summary=summary.strip(), next_provider=next_provider.strip()[:200],
            aftercare_appointments=aftercare_appointments.strip(),
            medications=medications.strip(), supports=supports.strip(), recorded_by=actor,
            safety_decision=safety,
        )
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.EPISODE,
                     object_id=episode.code, participant=episode.participant, request=request,
                     reason=_with_notes(f"discharged: {reason}", safety=safety))
    return discharge


def program_settings_update(*, actor: User, program: Program, values: dict[str, Any],
                            request: HttpRequest | None = None) -> Program:
    """Store the settings a program sets (`values`: dotted path -> value; every other
    setting keeps its default). A value that is not valid is refused, naming the setting,
    and nothing is saved."""
    from .program_settings import leaf_fields, parse_form

    require_perm(actor, Perm.PROGRAM_MANAGE)
    _same_org(actor, program)
    titles = dict((path, info.title or path) for path, info in leaf_fields())
    stored, errors = parse_form(values)
    if errors:
        raise ValidationError({
            path.replace(".", "__") if path in titles else "__all__":
                f"{titles.get(path, path or 'Settings')}: {message}."
            for path, message in errors.items()})
    with transaction.atomic():
        Program.objects.filter(pk=program.pk).update(settings=stored)
        program.settings = stored
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.CARE_PROGRAM,
                     object_id=program.code, organization=program.organization,
                     request=request, reason="program settings changed")
    return program
