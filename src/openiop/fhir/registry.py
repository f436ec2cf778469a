"""The resource types served under /fhir/R4/ (see resources.Spec for what each field means).

`updated` is the time the resource last changed as far as the rows show it:
Participant.updated_at; an episode's latest level-of-care change or discharge; a
booking's attendance record; a medication order's latest change; a consent's grant or
revocation; a score's entry. Rows without a timestamp of their own (sites, programs) use
their organization's creation time, the earliest moment they can have existed.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from openiop.accounts.models import User
from openiop.billing.models import DiagnosisStatus
from openiop.care.models import Discharge, EpisodeOfCare, LevelOfCareChange, Program
from openiop.intake import instruments
from openiop.intake.models import MeasureResponse
from openiop.organizations.models import Organization, Site
from openiop.participants import disclosure
from openiop.participants.models import AdministrativeSex, Consent, ParticipantRevision
from openiop.participants.selectors import participants_visible_to
from openiop.scheduling.models import Attendance, Booking

from .history import entered_in_error_at
from .mapping.appointment import appointment
from .mapping.common import mrn_system
from .mapping.condition import CATEGORIES, condition
from .mapping.consent import consent
from .mapping.coverage import COVERAGE_STATUSES, coverage
from .mapping.encounter import encounter
from .mapping.episode_of_care import episode_of_care
from .mapping.medication_request import MEDICATION_STATUSES, medication_request, moud_q
from .mapping.observation import observation
from .mapping.organization import healthcare_service, location, organization
from .mapping.patient import patient
from .mapping.practitioner import practitioner
from .resources import (
    Ctx,
    Link,
    Param,
    Spec,
    choice,
    common,
    latest,
    named,
    patient_ref,
    ref_param,
    text,
)
from .search import date_filter, split_or, token

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
NPI = "http://hl7.org/fhir/sid/us-npi"
LOINC = "http://loinc.org"
EVERY = Q(pk__isnull=False)  # a code every row has (an empty Q() would vanish in an OR)


def _latest_of(model: Any, fk: str, stamp: str) -> Subquery:
    return Subquery(model.objects.filter(**{fk: OuterRef("pk")}).order_by(f"-{stamp}")
                    .values(stamp)[:1])


def date_param(path: str, doc: str) -> Param:
    return Param("date", lambda v, ctx: date_filter([v], path, ctx.tz), doc)


# --- Patient -----------------------------------------------------------------------------

def _mrn(value: str, ctx: Ctx) -> Q:
    """identifier=[system|]MRN; a different system matches nothing."""
    query = Q(pk__in=[])
    system = mrn_system(ctx.user.staff_profile.organization)
    for item in split_or(value):
        sys, code = token(item)
        if sys is None or sys == system:
            query |= Q(mrn__iexact=code)
    return query


PATIENT = Spec(
    "Patient", "participants:chart",
    lambda user: participants_visible_to(user).select_related("organization"),
    patient, ("legal_last_name", "legal_first_name", "pk"),
    latest(F("updated_at"), _latest_of(ParticipantRevision, "participant", "recorded_at")),
    participant="",
    params=common(
        identifier=Param("token", _mrn, "Medical record number ([system|]value)"),
        birthdate=date_param("date_of_birth", "Date of birth"),
        gender=choice("administrative_sex", tuple(AdministrativeSex.values),
                      "http://hl7.org/fhir/administrative-gender", "Administrative sex"),
        **named("name", text("legal_last_name", "legal_first_name", "preferred_name")),
        **named("family", text("legal_last_name")),
        **named("given", text("legal_first_name", "preferred_name")),
    ),
    links={"organization": Link("Organization", "organization")},
    profile=US_CORE + "us-core-patient",
)


# --- EpisodeOfCare ------------------------------------------------------------------------

EPISODE = Spec(
    "EpisodeOfCare", "care:participant_care",
    lambda user: EpisodeOfCare.objects.filter(
        participant__organization_id=user.staff_organization_id,
        program__organization_id=user.staff_organization_id,
    ).select_related("participant__organization", "program__organization", "primary_therapist"),
    episode_of_care, ("-admitted_on", "pk"),
    latest(F("created_at"), _latest_of(LevelOfCareChange, "episode", "recorded_at"),
           _latest_of(Discharge, "episode", "recorded_at")),
    participant="participant",
    params=common(
        patient=patient_ref("participant"),
        status=choice("status", tuple(EpisodeOfCare.Status.values)),
        **{"care-manager": ref_param("Practitioner", "primary_therapist")},
        organization=ref_param("Organization", "program__organization"),
    ),
    links={"patient": Link("Patient", "participant"),
           "care-manager": Link("Practitioner", "primary_therapist"),
           "organization": Link("Organization", "program__organization")},
)


# --- Observation (scores) -----------------------------------------------------------------

def _loinc_codes() -> dict[str, Q]:
    codes: dict[str, list[str]] = {}
    for key, inst in instruments.INSTRUMENTS.items():
        if inst.loinc:
            codes.setdefault(inst.loinc, []).append(key)
    return {loinc: Q(instrument__in=keys) for loinc, keys in codes.items()}


_OBSERVATION_UPDATED = latest(F("created_at"), entered_in_error_at())


def _observation_last_updated() -> Param:
    """`_lastUpdated` of scores, without the audit log's look-up in the clinic-wide filter.

    A score's lastUpdated is its creation, or for a score entered in error the time it was
    so marked (history.entered_in_error_at). Filtered on that expression, PostgreSQL priced
    the look-up once per score of the clinic (even where the CASE never runs it) and
    guessed a third of the rows would pass: it then joined the participants by a nested
    loop without an index (660 ms for the count of 11,398 scores) and, with JIT on,
    compiled the queries first. Here the other scores are filtered on `created_at`, and the
    scores entered in error (few: the partial index intake `measure_entered_in_error`) on the
    same expression, in a subquery of their own."""
    marked = Q(status=MeasureResponse.Status.ENTERED_IN_ERROR)

    def apply(value: str, ctx: Ctx) -> Q:
        changed = (MeasureResponse.objects.filter(marked)
                   .annotate(fhir_updated=_OBSERVATION_UPDATED)
                   .filter(date_filter([value], "fhir_updated", ctx.tz)).values("pk"))
        return (~marked & date_filter([value], "created_at", ctx.tz)) | Q(pk__in=changed)

    return Param("date", apply, "When the resource last changed (meta.lastUpdated)")


OBSERVATION = Spec(
    "Observation", "outcomes:participant_measures",
    lambda user: MeasureResponse.objects.filter(
        participant__organization_id=user.staff_organization_id
    ).select_related("participant__organization"),
    observation, ("-completed_at", "pk"), _OBSERVATION_UPDATED,
    participant="participant",
    params=common(
        _lastUpdated=_observation_last_updated(),
        patient=patient_ref("participant"), subject=patient_ref("participant"),
        code=choice("instrument", _loinc_codes(), LOINC, "LOINC code of the total score"),
        date=date_param("completed_at", "When the instrument was completed"),
        status=choice("status", tuple(MeasureResponse.Status.values)),
        category=choice("", {"survey": EVERY, "screening-assessment": EVERY},
                        "http://terminology.hl7.org/CodeSystem/observation-category"),
    ),
    links={"patient": Link("Patient", "participant"), "subject": Link("Patient", "participant")},
    profile=US_CORE + "us-core-observation-screening-assessment",
)


# --- Appointment --------------------------------------------------------------------------

APPOINTMENT = Spec(
    "Appointment", "scheduling:participant_schedule",
    lambda user: Booking.objects.filter(
        participant__organization_id=user.staff_organization_id,
        session__program__organization_id=user.staff_organization_id,
    ).select_related("participant__organization", "session__site__organization",
                     "session__room", "session__facilitator", "attendance"),
    appointment, ("session__starts_at", "pk"),
    latest(F("created_at"), F("attendance__recorded_at")),
    participant="participant",
    params=common(
        patient=patient_ref("participant"), actor=patient_ref("participant"),
        date=date_param("session__starts_at", "Start of the session"),
        practitioner=ref_param("Practitioner", "session__facilitator"),
        location=ref_param("Location", "session__site"),
    ),
    links={"patient": Link("Patient", "participant"),
           "practitioner": Link("Practitioner", "session__facilitator"),
           "location": Link("Location", "session__site")},
    plan_in_written_order=True,
)


# --- Encounter (attended sessions) ---------------------------------------------------------

ENCOUNTER = Spec(
    "Encounter", "scheduling:participant_schedule",
    lambda user: APPOINTMENT.queryset(user).filter(attendance__status__in=Attendance.ATTENDED),
    encounter, ("session__starts_at", "pk"), F("attendance__recorded_at"),
    participant="participant",
    params=common(
        patient=patient_ref("participant"), subject=patient_ref("participant"),
        date=date_param("session__starts_at", "Start of the session"),
        practitioner=ref_param("Practitioner", "session__facilitator"),
        location=ref_param("Location", "session__site"),
    ),
    links={"patient": Link("Patient", "participant"), "subject": Link("Patient", "participant"),
           "practitioner": Link("Practitioner", "session__facilitator"),
           "location": Link("Location", "session__site")},
    profile=US_CORE + "us-core-encounter",
    plan_in_written_order=True,
)


# --- MedicationRequest --------------------------------------------------------------------

def _orders(user: User) -> QuerySet:
    from openiop.medications.models import MedicationChange, MedicationOrder

    last_stop = MedicationChange.objects.filter(
        order=OuterRef("pk"), kind=MedicationChange.Kind.STOP,
    ).order_by("-effective_date", "-changed_at", "-pk").values("reason")[:1]
    return MedicationOrder.objects.filter(
        participant__organization_id=user.staff_organization_id
    ).select_related("participant__organization", "prescriber").annotate(
        stop_reason=Subquery(last_stop))


def _medication_status(value: str, ctx: Ctx) -> Q:
    from openiop.medications.models import MedicationChange, MedicationOrder

    today = timezone.localdate(timezone=ctx.tz)
    active, stopped = MedicationOrder.Status.ACTIVE, MedicationOrder.Status.STOPPED
    ran_out = Q(status=active, stop_date__lt=today)
    completed = ran_out | (Q(status=stopped) & (
        Q(stop_reason__isnull=True) | Q(stop_reason=MedicationChange.Reason.COMPLETED)))
    table = {"active": Q(status=active) & ~ran_out, "completed": completed,
             "stopped": Q(status=stopped) & ~completed}
    return choice("", {s: table[s] for s in MEDICATION_STATUSES}).apply(value, ctx)


def _order_changed() -> Subquery:
    from openiop.medications.models import MedicationChange

    return _latest_of(MedicationChange, "order", "changed_at")


MEDICATION_REQUEST = Spec(
    "MedicationRequest", "medications:participant_medications", _orders,
    medication_request, ("-start_date", "name", "pk"),
    latest(F("created_at"), _order_changed()),
    participant="participant", sud_record=moud_q(),
    params=common(
        patient=patient_ref("participant"), subject=patient_ref("participant"),
        status=Param("token", _medication_status, "active, stopped or completed"),
        requester=ref_param("Practitioner", "prescriber"),
    ),
    links={"patient": Link("Patient", "participant"), "subject": Link("Patient", "participant"),
           "requester": Link("Practitioner", "prescriber")},
    profile=US_CORE + "us-core-medicationrequest",
)


# --- Consent ------------------------------------------------------------------------------

def _consent_status(value: str, ctx: Ctx) -> Q:
    active = disclosure.active_consent_q(timezone.now())
    return choice("", {"active": active, "inactive": ~active}).apply(value, ctx)


# No staff page lists consents; the notes page is where staff rely on them (who may be
# recorded as present in a family session), so a Consent is read with the notes' permission.
CONSENT = Spec(
    "Consent", "clinical:participant_notes",
    lambda user: Consent.objects.filter(
        participant__organization_id=user.staff_organization_id
    ).select_related("participant__organization", "related_person"),
    consent, ("-granted_at", "pk"), latest(F("granted_at"), F("revoked_at")),
    participant="participant",
    params=common(patient=patient_ref("participant"),
                  status=Param("token", _consent_status, "active or inactive")),
    links={"patient": Link("Patient", "participant"),
           "organization": Link("Organization", "participant__organization")},
)


# --- Condition (diagnoses) and Coverage ---------------------------------------------------

def _diagnoses(user: User) -> QuerySet:
    from openiop.billing.models import Diagnosis

    return Diagnosis.objects.filter(
        participant__organization_id=user.staff_organization_id
    ).select_related("participant__organization", "recorded_by")


def _clinical_status(value: str, ctx: Ctx) -> Q:
    table = {"active": Q(status=DiagnosisStatus.ACTIVE),
             "resolved": Q(status=DiagnosisStatus.RESOLVED)}
    table |= {other: Q(pk__in=[]) for other in (
        "recurrence", "relapse", "inactive", "remission")}
    return choice("", table, "http://terminology.hl7.org/CodeSystem/condition-clinical"
                  ).apply(value, ctx)


def _icd10cm(value: str, ctx: Ctx) -> Q:
    """code=[system|]code: ICD-10-CM codes, with or without the dot."""
    from .mapping.condition import ICD10CM

    query = Q(pk__in=[])
    for item in split_or(value):
        sys, code = token(item)
        if sys is None or sys == ICD10CM:
            bare = code.replace(".", "").upper()
            dotted = f"{bare[:3]}.{bare[3:]}" if len(bare) > 3 else bare
            query |= Q(icd_code__in=[bare, dotted])
    return query


def _sud_diagnosis() -> Q:
    # ICD-10-CM F10-F19 "Mental and behavioral disorders due to psychoactive substance use"
    # (https://www.cms.gov/medicare/coding-billing/icd-10-codes): in a Part 2 program a
    # substance use disorder diagnosis is a substance-use treatment record on its own.
    return Q(icd_code__startswith="F1")


# The Diagnoses tab shows these records to clinical and billing staff alike (its
# navigation entry names both permissions).
CONDITION = Spec(
    "Condition", "billing:participant_diagnoses", _diagnoses, condition,
    ("-recorded_at", "pk"), latest(F("recorded_at"), F("changed_at")),
    participant="participant", sud_record=_sud_diagnosis(),
    params=common(
        patient=patient_ref("participant"), subject=patient_ref("participant"),
        **{"clinical-status": Param("token", _clinical_status, "active or resolved"),
           "verification-status": choice("", {
               "confirmed": ~Q(status=DiagnosisStatus.ENTERED_IN_ERROR),
               "entered-in-error": Q(status=DiagnosisStatus.ENTERED_IN_ERROR)},
               "http://terminology.hl7.org/CodeSystem/condition-ver-status")},
        category=choice("", {c: EVERY if c == "problem-list-item" else Q(pk__in=[])
                             for c in CATEGORIES},
                        "http://terminology.hl7.org/CodeSystem/condition-category",
                        "problem-list-item (every diagnosis on the chart)"),
        code=Param("token", _icd10cm, "ICD-10-CM code ([system|]code)"),
        **{"onset-date": date_param("onset_on", "Date of onset"),
           "recorded-date": date_param("recorded_at", "When the diagnosis was recorded")},
    ),
    links={"patient": Link("Patient", "participant"), "subject": Link("Patient", "participant"),
           "recorder": Link("Practitioner", "recorded_by")},
    profile=US_CORE + "us-core-condition-problems-health-concerns",
)


def _coverages(user: User) -> QuerySet:
    from openiop.billing.models import Coverage

    return Coverage.objects.filter(
        participant__organization_id=user.staff_organization_id,
        payer__organization_id=user.staff_organization_id,
    ).select_related("participant__organization", "payer")


def _coverage_status(value: str, ctx: Ctx) -> Q:
    today = timezone.localdate(timezone=ctx.tz)
    ended = Q(ends_on__lt=today)
    table = {"active": ~ended, "cancelled": ended}
    table |= {other: Q(pk__in=[]) for other in ("draft", "entered-in-error")}
    return choice("", {s: table[s] for s in (*COVERAGE_STATUSES, "draft", "entered-in-error")},
                  "http://hl7.org/fhir/fm-status").apply(value, ctx)


# Coverage is on the Billing tab (billing staff and directors; never clinical-only roles).
COVERAGE = Spec(
    "Coverage", "billing:participant_billing", _coverages, coverage,
    ("order", "-effective_on", "pk"), latest(F("created_at"), F("changed_at")),
    participant="participant",
    params=common(
        patient=patient_ref("participant"), beneficiary=patient_ref("participant"),
        status=Param("token", _coverage_status, "active or cancelled (ended)"),
    ),
    links={"patient": Link("Patient", "participant"),
           "beneficiary": Link("Patient", "participant")},
    profile=US_CORE + "us-core-coverage",
)


# --- Directory: Practitioner, Organization, Location, HealthcareService --------------------

def _npi(value: str, ctx: Ctx) -> Q:
    query = Q(pk__in=[])
    for item in split_or(value):
        sys, code = token(item)
        if sys is None or sys == NPI:
            query |= Q(staff_profile__npi=code)
    return query


PRACTITIONER = Spec(
    "Practitioner", "care:programs",
    lambda user: User.objects.filter(
        staff_profile__organization_id=user.staff_organization_id
    ).select_related("staff_profile__organization"),
    practitioner, ("last_name", "first_name", "pk"), F("date_joined"),
    params=common(identifier=Param("token", _npi, "NPI ([system|]value)"),
                  active=choice("is_active", {"true": Q(is_active=True),
                                              "false": Q(is_active=False)}),
                  **named("name", text("last_name", "first_name")),
                  **named("family", text("last_name")),
                  **named("given", text("first_name"))),
    profile=US_CORE + "us-core-practitioner",
)

ORGANIZATION = Spec(
    "Organization", "care:programs",
    lambda user: Organization.objects.filter(pk=user.staff_organization_id),
    organization, ("name", "pk"), F("created_at"),
    params=common(**named("name", text("name"))),
    profile=US_CORE + "us-core-organization",
)

LOCATION = Spec(
    "Location", "care:programs",
    lambda user: Site.objects.filter(
        organization_id=user.staff_organization_id).select_related("organization"),
    location, ("name", "pk"), F("organization__created_at"),
    params=common(**named("name", text("name")),
                  organization=ref_param("Organization", "organization"),
                  **{"address-state": Param("string", lambda v, ctx: Q(state__iexact=v)),
                     "address-city": Param("string", lambda v, ctx: Q(city__iexact=v))}),
    links={"organization": Link("Organization", "organization")},
    profile=US_CORE + "us-core-location",
)

HEALTHCARE_SERVICE = Spec(
    "HealthcareService", "care:programs",
    lambda user: Program.objects.filter(
        organization_id=user.staff_organization_id
    ).select_related("organization", "site").prefetch_related("tracks"),
    lambda program: healthcare_service(
        program, [t for t in program.tracks.all() if t.is_active]),
    ("name", "pk"), F("organization__created_at"),
    params=common(**named("name", text("name")),
                  active=choice("is_active", {"true": Q(is_active=True),
                                              "false": Q(is_active=False)}),
                  organization=ref_param("Organization", "organization"),
                  location=ref_param("Location", "site")),
    links={"organization": Link("Organization", "organization"),
           "location": Link("Location", "site")},
)

SPECS: dict[str, Spec] = {s.name: s for s in (
    PATIENT, EPISODE, OBSERVATION, APPOINTMENT, ENCOUNTER, MEDICATION_REQUEST, CONSENT,
    CONDITION, COVERAGE, PRACTITIONER, ORGANIZATION, LOCATION, HEALTHCARE_SERVICE)}
