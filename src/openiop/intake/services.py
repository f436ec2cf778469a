"""The referral workflow: new -> screening -> assessment -> admitted / declined / referred
elsewhere, with screening measures and level-of-care assessments on the way."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.care.levels import LevelOfCare
from openiop.core.exceptions import Conflict, InvalidTransition
from openiop.participants.models import PHONE_VALIDATOR, Participant

from .instruments import ScoreResult, score
from .loc import LocInputError, recommend
from .models import LevelOfCareAssessment, Referral
from .safety import safety_tasks_attach_referral

# Sources a person may use without signing in (the public finder and self-check).
PUBLIC_SOURCES = (Referral.Source.FINDER, Referral.Source.SELF_CHECK, Referral.Source.SELF)
CLOSING = (Referral.Status.DECLINED, Referral.Status.REFERRED_ELSEWHERE)


def referral_create(
    *,
    source: str,
    name: str,
    reason: str,
    organization: Any,
    phone: str = "",
    email: str = "",
    program: Any = None,
    actor: Any = None,
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
        audit_record(actor=actor, action="create", object_type="referral",
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
    actor: Any,
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
        audit_record(actor=actor, action="change", object_type="referral",
                     object_id=referral.code, participant=participant, request=request,
                     reason="screening started")
    return referral


def referral_record_screen(
    *,
    actor: Any,
    referral: Referral,
    instrument: str,
    answers: dict[str, Any] | list[Any],
    sex: str | None = None,
    request: HttpRequest | None = None,
) -> Any:
    """Record one intake screener for the referred person (an outcomes.MeasureResponse with
    context "intake"). A safety flag opens an urgent task and marks the referral urgent."""
    from openiop.outcomes.services import measure_record

    require_perm(actor, Perm.INTAKE_MANAGE)
    if referral.status not in (Referral.Status.SCREENING, Referral.Status.ASSESSMENT):
        raise InvalidTransition("Screeners are recorded once screening has started and before "
                                "the referral is closed.", field="status")
    with transaction.atomic():
        response = measure_record(
            actor=actor, participant=referral.participant, instrument=instrument,
            answers=answers, context="intake", sex=sex, request=request,
        )
        if response.safety_flag:
            Referral.objects.filter(pk=referral.pk).update(urgent=True)
            referral.urgent = True
            safety_tasks_attach_referral(tasks=response.safety_tasks.all(), referral=referral)
    return response


def latest_screening(participant: Participant) -> dict[str, ScoreResult]:
    """The latest intake response to each instrument, re-scored from its stored items."""
    from openiop.outcomes.models import MeasureResponse

    latest: dict[str, ScoreResult] = {}
    rows = MeasureResponse.objects.filter(
        participant=participant, context=MeasureResponse.Context.INTAKE,
        status=MeasureResponse.Status.FINAL,
    ).order_by("completed_at")
    for row in rows:
        latest[row.instrument] = score(row.instrument, row.answers, sex=row.sex or None)
    return latest


def referral_assess(
    *,
    actor: Any,
    referral: Referral,
    dimensions: dict[str, Any],
    hours_available: Any,
    decided_level: str | None = None,
    override_reason: str = "",
    request: HttpRequest | None = None,
) -> LevelOfCareAssessment:
    """Run the level-of-care engine on the screening and the clinician's ratings and store
    the recommendation with every rule that fired.

    `decided_level` other than the recommendation is an override and needs a reason.
    """
    require_perm(actor, Perm.ADMIT)
    if referral.status not in (Referral.Status.SCREENING, Referral.Status.ASSESSMENT):
        raise InvalidTransition("A level-of-care assessment follows screening; this referral "
                                f"is {referral.get_status_display().lower()}.", field="status")
    participant = referral.participant
    screening = latest_screening(participant)
    return _assess(actor=actor, participant=participant, referral=referral, episode=None,
                   screening=screening, dimensions=dimensions, hours_available=hours_available,
                   decided_level=decided_level, override_reason=override_reason,
                   request=request)


def _assess(*, actor: Any, participant: Participant, referral: Referral | None, episode: Any,
            screening: dict[str, ScoreResult], dimensions: dict[str, Any],
            hours_available: Any, decided_level: str | None, override_reason: str,
            request: HttpRequest | None) -> LevelOfCareAssessment:
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
    assessment = LevelOfCareAssessment(
        participant=participant, referral=referral, episode=episode,
        hours_available=Decimal(str(hours_available)),
        screening={code: {"total": r.total, "band": r.band, "flags": r.flag_codes}
                   for code, r in screening.items()},
        recommended_level=rec.level, rules_fired=rec.as_list(), imminent_risk=rec.imminent_risk,
        decided_level=decided, override_reason=reason if decided != rec.level else "",
        assessed_by=actor, assessed_at=timezone.now(),
        **{k: int(dimensions[k]) for k in ("withdrawal", "biomedical", "emotional",
                                            "readiness", "relapse", "environment")},
    )
    with transaction.atomic():
        assessment.save()
        if referral is not None and referral.status == Referral.Status.SCREENING:
            _advance(referral, expected=(Referral.Status.SCREENING,), version=None,
                     status=Referral.Status.ASSESSMENT, assessment_at=timezone.now())
        audit_record(actor=actor, action="create", object_type="loc_assessment",
                     object_id=assessment.code, participant=participant, request=request,
                     reason="override" if assessment.is_override else "")
    return assessment


def referral_close(
    *,
    actor: Any,
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
        audit_record(actor=actor, action="change", object_type="referral",
                     object_id=referral.code, participant=referral.participant,
                     organization=referral.organization, request=request, reason=status)
    return referral


def referral_mark_admitted(*, referral: Referral, episode: Any) -> None:
    """Called by care.services.episode_admit inside its transaction."""
    _advance(referral, expected=Referral.OPEN_STATUSES, version=None,
             status=Referral.Status.ADMITTED, episode=episode, closed_at=timezone.now())
