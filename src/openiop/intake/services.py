"""The referral workflow: new -> screening -> assessment -> admitted / declined / referred
elsewhere, with screening measures and level-of-care assessments on the way."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.care.levels import LevelOfCare
from openiop.core.exceptions import Conflict, InvalidTransition, NotPermitted
from openiop.participants.models import PHONE_VALIDATOR, Participant

from .instruments import ScoreResult, ScoringError, score
from .loc import LocInputError, recommend
from .measures import measure_record
from .models import LevelOfCareAssessment, MeasureResponse, Referral
from .safety import safety_tasks_attach_referral

if TYPE_CHECKING:
    from openiop.care.models import EpisodeOfCare

# Sources a person may use without signing in (the public finder and self-check).
PUBLIC_SOURCES = (Referral.Source.FINDER, Referral.Source.SELF_CHECK, Referral.Source.SELF)
CLOSING = (Referral.Status.DECLINED, Referral.Status.REFERRED_ELSEWHERE)
# A second submission of the same screener with the same answers within this window is the
# same act (a double click, a resubmitted form, a retried request): it is not stored twice.
DUPLICATE_SCREEN_WINDOW = timedelta(minutes=10)


def referral_create(
    *,
    source: str,
    name: str,
    reason: str,
    organization: Any,
    phone: str = "",
    email: str = "",
    program: Any = None,
    actor: User | None = None,
    consent_text: str = "",
    date_of_birth: date | None = None,
    referrer_name: str = "",
    urgent: bool = False,
    request: HttpRequest | None = None,
) -> Referral:
    """Put a referral in the organization's queue with status "new".

    Staff need the intake permission. Without an actor (a member of the public) only the
    public sources are accepted (finder, self-check, self) and `consent_text` is required.
    Raises ValidationError naming the field; writes nothing then.
    """
    if actor is not None and getattr(actor, "is_authenticated", False):
        require_perm(actor, Perm.INTAKE_MANAGE)
        if actor.staff_organization_id != organization.pk:
            raise InvalidTransition("You can only add referrals to your own organization.")
    errors: dict[str, str] = {}
    if source not in Referral.Source.values:
        errors["source"] = f"source must be one of {', '.join(Referral.Source.values)}."
    elif (actor is None or not getattr(actor, "is_authenticated", False)) and (
        source not in PUBLIC_SOURCES
    ):
        errors["source"] = "A public contact request must come from the finder or self-check."
    name = (name or "").strip()
    if not name:
        errors["name"] = "Give the person's name."
    if not (reason or "").strip():
        errors["reason"] = "Say briefly why care is being sought."
    phone, email = (phone or "").strip(), (email or "").strip()
    if not phone and not email:
        errors["phone"] = "Give a phone number or an email address so the program can reply."
    if phone:
        try:
            PHONE_VALIDATOR(phone)
        except ValidationError as exc:
            errors["phone"] = " ".join(exc.messages)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "Enter a valid email address, e.g. name@example.org."
    if (actor is None or not getattr(actor, "is_authenticated", False)) and not consent_text:
        errors["consent_text"] = "A public request needs the consent the person agreed to."
    if program is not None and program.organization_id != organization.pk:
        errors["program"] = "That program belongs to another organization."
    if date_of_birth and date_of_birth > timezone.localdate():
        errors["date_of_birth"] = "Date of birth cannot be in the future."
    if errors:
        raise ValidationError(errors)
    referral = Referral(
        organization=organization, program=program, source=source, name=name[:150],
        phone=phone, email=email, reason=reason.strip(), consent_text=consent_text,
        date_of_birth=date_of_birth, referrer_name=referrer_name.strip()[:150], urgent=urgent,
        received_at=timezone.now(),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    with transaction.atomic():
        referral.save()
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.REFERRAL,
                     object_id=referral.code, organization=organization, request=request)
    return referral


def _advance(referral: Referral, *, expected: tuple[str, ...], version: int | None,
             **changes: Any) -> None:
    """Compare-and-set on status (and version when given) so concurrent edits never clash
    silently."""
    qs = Referral.objects.filter(pk=referral.pk, status__in=expected)
    if version is not None:
        qs = qs.filter(version=version)
    updated = qs.update(version=referral.version + 1, **changes)
    if updated != 1:
        current = Referral.objects.filter(pk=referral.pk).values_list("status", "version").first()
        if current and current[0] not in expected:
            raise InvalidTransition(
                f"This referral is {Referral.Status(current[0]).label.lower()}; it cannot move "
                "on from there.", field="status")
        raise Conflict("Someone else changed this referral after you opened it. Reload it and "
                       "try again; nothing was saved.", field="version")
    for k, v in changes.items():
        setattr(referral, k, v)
    referral.version += 1


def _split_name(name: str) -> tuple[str, str]:
    parts = name.split()
    if len(parts) == 1:
        return parts[0], parts[0]
    return " ".join(parts[:-1]), parts[-1]


def referral_start_screening(
    *,
    actor: User,
    referral: Referral,
    date_of_birth: date | None = None,
    participant: Participant | None = None,
    version: int | None = None,
    request: HttpRequest | None = None,
) -> Referral:
    """Move a new referral to screening and link it to a participant record.

    Uses `participant` when given (someone already on record, e.g. a readmission), else
    creates one from the referral (date of birth required).
    """
    require_perm(actor, Perm.INTAKE_MANAGE)
    if referral.status != Referral.Status.NEW:
        raise InvalidTransition(
            f"Screening starts from a new referral; this one is "
            f"{referral.get_status_display().lower()}.", field="status")
    dob = date_of_birth or referral.date_of_birth
    if participant is None and dob is None:
        raise ValidationError({"date_of_birth": "Date of birth is needed to open a record."})
    if participant is not None and participant.organization_id != referral.organization_id:
        raise ValidationError({"participant": "That participant belongs to another "
                               "organization."})
    with transaction.atomic():
        if participant is None:
            from openiop.participants.services import participant_create

            first, last = _split_name(referral.name)
            participant = participant_create(
                actor=actor, organization=referral.organization, request=request,
                data={"mrn": f"IN{secrets.token_hex(4).upper()}", "legal_first_name": first,
                      "legal_last_name": last, "date_of_birth": dob,
                      "phone": referral.phone, "email": referral.email},
            )
        _advance(referral, expected=(Referral.Status.NEW,), version=version,
                 status=Referral.Status.SCREENING, screening_at=timezone.now(),
                 participant=participant, date_of_birth=dob or participant.date_of_birth)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.REFERRAL,
                     object_id=referral.code, participant=participant, request=request,
                     reason="screening started")
    return referral


def referral_record_screen(
    *,
    actor: User,
    referral: Referral,
    instrument: str,
    answers: dict[str, Any] | list[Any],
    sex: str | None = None,
    request: HttpRequest | None = None,
) -> Any:
    """Record one intake screener for the referred person (an intake.MeasureResponse with
    context "intake"). A safety flag opens an urgent task and marks the referral urgent."""
    require_perm(actor, Perm.INTAKE_MANAGE)
    if referral.status not in (Referral.Status.SCREENING, Referral.Status.ASSESSMENT,
                               Referral.Status.WAITLISTED):
        raise InvalidTransition("Screeners are recorded once screening has started and before "
                                "the referral is closed.", field="status")
    with transaction.atomic():
        # Serialize submissions for this referral so two concurrent copies see each other.
        Referral.objects.select_for_update().filter(pk=referral.pk).exists()
        duplicate = _recent_same_screen(referral, instrument, answers, sex)
        if duplicate is not None:
            duplicate.was_duplicate = True
            return duplicate
        assert referral.participant is not None  # linked when screening starts
        response = measure_record(
            actor=actor, participant=referral.participant, instrument=instrument,
            answers=answers, context="intake", sex=sex, request=request,
        )
        if response.safety_flag:
            Referral.objects.filter(pk=referral.pk).update(urgent=True)
            referral.urgent = True
            safety_tasks_attach_referral(tasks=response.safety_tasks.all(), referral=referral)
    return response


def _recent_same_screen(referral: Referral, instrument: str,
                        answers: dict[str, Any] | list[Any], sex: str | None) -> Any:
    """The intake response to the same instrument with the same answers recorded within
    DUPLICATE_SCREEN_WINDOW, if any (answers compared after scoring normalizes them)."""
    try:
        result = score(instrument, answers, sex=sex or None)
    except ScoringError:
        return None  # measure_record reports what is wrong with the answers
    recent = MeasureResponse.objects.filter(
        participant=referral.participant, context=MeasureResponse.Context.INTAKE,
        instrument=result.instrument, status=MeasureResponse.Status.FINAL,
        completed_at__gte=timezone.now() - DUPLICATE_SCREEN_WINDOW,
    ).order_by("-completed_at")
    for row in recent:
        if row.answers == dict(result.answers) and (row.sex or "") == (sex or ""):
            return row
    return None


def scoped_screening(*, participant: Participant, referral: Referral | None = None,
                     episode: EpisodeOfCare | None = None, cssrs: Any = None) -> dict[str, ScoreResult]:
    """The latest response to each instrument in the referral's (or episode's) scope,
    re-scored from its stored items. The C-SSRS is `cssrs` (the one the safety rule
    accepted) when given, so an old or earlier-episode C-SSRS never counts."""
    from .decisions import scope_responses

    latest: dict[str, ScoreResult] = {}
    rows = scope_responses(participant, referral=referral, episode=episode)
    if episode is None:
        rows = rows.filter(context="intake")
    for row in rows.order_by("completed_at"):
        latest[row.instrument] = score(row.instrument, row.answers, sex=row.sex or None)
    if cssrs is not None:
        latest["cssrs"] = score("cssrs", cssrs.answers)
    return latest


def referral_assess(
    *,
    actor: User,
    referral: Referral,
    dimensions: dict[str, Any],
    hours_available: Any,
    decided_level: str | None = None,
    override_reason: str = "",
    request: HttpRequest | None = None,
) -> LevelOfCareAssessment:
    """Run the level-of-care engine on the referral's screening and the ratings and store
    the recommendation with every rule that fired.

    - A licensed clinician (`User.may_decide_level_of_care`) decides: the C-SSRS rule of
      `intake.decisions` must be met (ValidationError on `cssrs` otherwise).
    - Anyone else with the admit permission (intake staff) stores a proposal, which
      `loc_confirm` turns into a decision.
    - `decided_level` other than the recommendation is an override and needs a reason.
    """
    require_perm(actor, Perm.ADMIT)
    if referral.status not in (Referral.Status.SCREENING, Referral.Status.ASSESSMENT,
                               Referral.Status.WAITLISTED):
        raise InvalidTransition("A level-of-care assessment follows screening; this referral "
                                f"is {referral.get_status_display().lower()}.", field="status")
    from .decisions import safety_screen

    participant = referral.participant
    if participant is None:
        raise InvalidTransition("Register the person before assessing the level of care.",
                                field="participant")
    screen = safety_screen(participant=participant, referral=referral)
    decides = bool(getattr(actor, "may_decide_level_of_care", False))
    if decides and screen.missing:
        raise ValidationError({"cssrs": screen.message()})
    screening = scoped_screening(participant=participant, referral=referral, cssrs=screen.cssrs)
    if screen.required and screen.cssrs is None:
        screening.pop("cssrs", None)  # an old C-SSRS does not answer the new flag
    return _assess(actor=actor, participant=participant, referral=referral, episode=None,
                   screening=screening, dimensions=dimensions, hours_available=hours_available,
                   decided_level=decided_level, override_reason=override_reason,
                   cssrs=screen.cssrs, decides=decides, request=request)


def _assess(*, actor: User, participant: Participant, referral: Referral | None, episode: EpisodeOfCare | None,
            screening: dict[str, ScoreResult], dimensions: dict[str, Any],
            hours_available: Any, decided_level: str | None, override_reason: str,
            cssrs: Any, decides: bool, request: HttpRequest | None) -> LevelOfCareAssessment:
    if not screening:
        raise ValidationError({"screening": "Record at least one screener before asking for a "
                               "recommendation."})
    try:
        rec = recommend(screening=screening, dimensions=dimensions,
                        hours_available=hours_available, adolescent=participant.age < 18)
    except LocInputError as exc:
        raise ValidationError(exc.errors) from None
    decided = decided_level or rec.level
    if decided not in LevelOfCare.values:
        raise ValidationError({"decided_level": f"Choose one of {', '.join(LevelOfCare.values)}."})
    reason = (override_reason or "").strip()
    if decided != rec.level and not reason:
        raise ValidationError({"override_reason": (
            f"The engine recommends {rec.level}; choosing {decided} is an override and needs "
            "a reason.")})
    now = timezone.now()
    assessment = LevelOfCareAssessment(
        participant=participant, referral=referral, episode=episode,
        hours_available=Decimal(str(hours_available)),
        screening={code: {"total": r.total, "band": r.band, "flags": r.flag_codes}
                   for code, r in screening.items()},
        recommended_level=rec.level, rules_fired=rec.as_list(), imminent_risk=rec.imminent_risk,
        decided_level=decided, override_reason=reason if decided != rec.level else "",
        assessed_by=actor, assessed_at=now, cssrs_response=cssrs,
        status=(LevelOfCareAssessment.Status.DECIDED if decides
                else LevelOfCareAssessment.Status.PROPOSED),
        decided_by=actor if decides else None, decided_at=now if decides else None,
        **{k: int(dimensions[k]) for k in ("withdrawal", "biomedical", "emotional",
                                            "readiness", "relapse", "environment")},
    )
    with transaction.atomic():
        assessment.save()
        if referral is not None and referral.status == Referral.Status.SCREENING:
            _advance(referral, expected=(Referral.Status.SCREENING,), version=None,
                     status=Referral.Status.ASSESSMENT, assessment_at=timezone.now())
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.LOC_ASSESSMENT,
                     object_id=assessment.code, participant=participant, request=request,
                     reason=", ".join(w for w in ("override" if assessment.is_override else "",
                                                  "" if decides else "proposed") if w))
    return assessment


def loc_confirm(
    *,
    actor: User,
    assessment: LevelOfCareAssessment,
    decided_level: str | None = None,
    override_reason: str = "",
    request: HttpRequest | None = None,
) -> LevelOfCareAssessment:
    """A licensed clinician confirms a proposed level (or decides another one, with a
    reason). The C-SSRS rule applies as for any decision."""
    from openiop.care.services import require_level_decider

    from .decisions import require_safety_screen

    require_perm(actor, Perm.ADMIT)
    require_level_decider(actor, "confirm a level of care")
    if assessment.participant.organization_id != actor.staff_organization_id:
        raise NotPermitted("That record belongs to another organization.")
    if assessment.status != LevelOfCareAssessment.Status.PROPOSED:
        raise InvalidTransition("This level of care is already decided.", field="status")
    screen = require_safety_screen(participant=assessment.participant,
                                   referral=assessment.referral, episode=assessment.episode)
    decided = decided_level or assessment.decided_level
    if decided not in LevelOfCare.values:
        raise ValidationError({"decided_level": f"Choose one of {', '.join(LevelOfCare.values)}."})
    reason = (override_reason or "").strip() or (
        assessment.override_reason if decided == assessment.decided_level else "")
    if decided != assessment.recommended_level and not reason:
        raise ValidationError({"override_reason": (
            f"The engine recommends {assessment.recommended_level}; choosing {decided} is an "
            "override and needs a reason.")})
    now = timezone.now()
    with transaction.atomic():
        updated = LevelOfCareAssessment.objects.filter(
            pk=assessment.pk, status=LevelOfCareAssessment.Status.PROPOSED).update(
            status=LevelOfCareAssessment.Status.DECIDED, decided_by=actor, decided_at=now,
            decided_level=decided,
            override_reason=reason if decided != assessment.recommended_level else "",
            cssrs_response=screen.cssrs)
        if updated != 1:
            raise InvalidTransition("This level of care is already decided.", field="status")
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.LOC_ASSESSMENT,
                     object_id=assessment.code, participant=assessment.participant,
                     request=request, reason="confirmed"
                     + (" with override" if decided != assessment.recommended_level else ""))
    assessment.refresh_from_db()
    return assessment


def decided_assessment(*, participant: Participant,
                       referral: Referral | None = None) -> LevelOfCareAssessment | None:
    """The latest decided pre-admission assessment of the referral (when given) or of one
    of the person's open referrals; an assessment of an earlier, closed referral does not
    count."""
    qs = LevelOfCareAssessment.objects.filter(
        participant=participant, status=LevelOfCareAssessment.Status.DECIDED,
        episode__isnull=True)
    if referral is not None:
        qs = qs.filter(referral=referral)
    else:
        qs = qs.filter(referral__status__in=Referral.OPEN_STATUSES)
    return qs.order_by("-assessed_at").first()


def referral_close(
    *,
    actor: User,
    referral: Referral,
    status: str,
    note: str,
    referred_to: str = "",
    version: int | None = None,
    request: HttpRequest | None = None,
) -> Referral:
    """Close an open referral as declined or referred elsewhere (with where)."""
    require_perm(actor, Perm.INTAKE_MANAGE)
    if status not in CLOSING:
        raise ValidationError({"status": "Close a referral as declined or referred elsewhere; "
                               "admission happens through the admission form."})
    errors = {}
    if not (note or "").strip():
        errors["note"] = "Say why (this is kept with the referral)."
    if status == Referral.Status.REFERRED_ELSEWHERE and not referred_to.strip():
        errors["referred_to"] = "Name the program or provider the person was referred to."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _advance(referral, expected=Referral.OPEN_STATUSES, version=version, status=status,
                 outcome_note=note.strip(), referred_to=referred_to.strip()[:200],
                 closed_at=timezone.now())
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.REFERRAL,
                     object_id=referral.code, participant=referral.participant,
                     organization=referral.organization, request=request, reason=status)
    return referral


def referral_mark_admitted(*, referral: Referral, episode: EpisodeOfCare) -> None:
    """Called by care.services.episode_admit inside its transaction."""
    _advance(referral, expected=Referral.OPEN_STATUSES, version=None,
             status=Referral.Status.ADMITTED, episode=episode, closed_at=timezone.now())


def referral_mark_waitlisted(*, referral: Referral, episode: EpisodeOfCare) -> None:
    """Called by care.services.episode_admit inside its transaction when the track is full:
    the referral waits in the episode's program (status "waitlisted")."""
    _advance(referral, expected=Referral.OPEN_STATUSES, version=None,
             status=Referral.Status.WAITLISTED, episode=episode, program=episode.program,
             waitlisted_at=timezone.now())
