"""The audit trail's vocabulary: what was done (`Action`) to which kind of record
(`ObjectType`). Every writer of an `AccessEvent` takes members of these, never a string
(`audit_record` refuses one): a misspelt object type would be a row nobody finds when
they filter the log or account for disclosures (45 CFR 164.312(b); 42 CFR 2.24).

The values are exactly the strings stored in `AccessEvent.action` / `.object_type` before
these enums existed, so no data migration was needed and old rows filter the same; a
stored value is covered by the chain's hash, so a value must never change once written.
A new kind of record gets a new member (tools/codemods/audit_enums.py reports a literal
that is none).

This module imports nothing of OpenIOP, so any app (and the codemod) can import it.
"""

from __future__ import annotations

from django.db import models

# Django admin pages (openiop.accounts.admin_site) are audited by their URL name, a family
# as open as the models registered with the admin: "admin:<url name>".
ADMIN_PAGE_PREFIX = "admin:"


class Action(models.TextChoices):
    VIEW = "view", "Viewed"
    CREATE = "create", "Created"
    CHANGE = "change", "Changed"
    EXPORT = "export", "Exported"
    DISCLOSE = "disclose", "Disclosed"
    PRINT = "print", "Printed"
    BREAK_GLASS = "break_glass", "Emergency access"
    DENIED = "denied", "Access denied"
    SIGN = "sign", "Signed"
    INTEGRITY = "integrity", "Integrity warning"


class ObjectType(models.TextChoices):
    """The kind of record an event is about. Values as stored (see the module's docstring).

    Besides the members: `ObjectType.admin_page(url_name)` for a Django admin page.
    """

    ACCESS_LOG = "access_log"
    ACCOUNT = "account"
    ADHERENCE_CHECK = "adherence_check"
    ALLERGY = "allergy"
    ALLERGY_STATEMENT = "allergy_statement"
    ATTENDANCE = "attendance"
    AUTHORIZATION = "authorization"
    AUTHORIZATION_NOTICE = "authorization_notice"
    AVAILABILITY = "availability"
    BILLING = "billing"
    BOOKING = "booking"
    BREAK_GLASS_GRANT = "break_glass_grant"
    BREAK_GLASS_REVIEW = "break_glass_review"
    CALENDAR_FEED = "calendar_feed"
    CHARGE_CAPTURE = "charge_capture"
    CHECKIN = "checkin"
    CHECKIN_GAD7 = "checkin_gad7"
    CHECKIN_PHQ9 = "checkin_phq9"
    CLAIM = "claim"
    CLAIM_BATCH = "claim_batch"
    CLAIMS = "claims"
    CLINICAL_RECORD = "clinical_record"
    CONSENT = "consent"
    CONSENTS = "consents"
    COVERAGE = "coverage"
    CRAVING_LOG = "craving_log"
    DIAGNOSES = "diagnoses"
    DIAGNOSIS = "diagnosis"
    DOWNLOAD = "download"
    DRUG_SCREEN = "drug_screen"
    ENROLLMENT = "enrollment"
    EPISODE = "episode"
    FAMILY_EDUCATION = "family_education"
    FAMILY_PORTAL = "family_portal"
    FAMILY_SCHEDULE = "family_schedule"
    FINANCIAL_PROFILE = "financial_profile"
    HOLISTIC_NOTE = "holistic_note"
    HOMEWORK = "homework"
    INTERACTION_ACK = "interaction_ack"
    IOP_CERTIFICATION = "iop_certification"
    JOB = "job"
    LOC_ASSESSMENT = "loc_assessment"
    MEASURE_RESPONSE = "measure_response"
    MED_ADMINISTRATION = "med_administration"
    MED_RECONCILIATION = "med_reconciliation"
    MEDICATION_DASHBOARD = "medication_dashboard"
    MEDICATION_ORDER = "medication_order"
    MEDICATION_REVIEW = "medication_review"
    MEDICATIONS = "medications"
    MESSAGE = "message"
    MESSAGES = "messages"
    MODULE = "module"
    MY_COSTS = "my_costs"
    MY_MEDICATIONS = "my_medications"
    NALOXONE_CHECK = "naloxone_check"
    NOTE = "note"
    NOTE_DASHBOARD = "note_dashboard"
    ON_CALL_SHIFT = "on_call_shift"
    PARTICIPANT = "participant"
    PARTICIPANT_LIST = "participant_list"
    PAYER = "payer"
    PORTAL = "portal"
    PORTAL_ACCOUNT = "portal_account"
    PORTAL_CHECKINS = "portal_checkins"
    PORTAL_HOME = "portal_home"
    PORTAL_HOMEWORK = "portal_homework"
    PORTAL_PLANS = "portal_plans"
    PROGRAM = "program"
    REFERRAL = "referral"
    REFERRAL_LIST = "referral_list"
    RELAPSE_PLAN = "relapse_plan"
    RELATED_PERSON = "related_person"
    REMITTANCE = "remittance"
    ROTATION = "rotation"
    SAFETY_PLAN = "safety_plan"
    SAFETY_TASK = "safety_task"
    SCHEDULE_PLAN = "schedule_plan"
    SESSION = "session"
    SESSION_MODULE = "session_module"
    SESSION_REMINDER = "session_reminder"
    SESSION_TEMPLATE = "session_template"
    SESSIONS = "sessions"
    SHARED_NOTE = "shared_note"
    SHARED_NOTES = "shared_notes"
    SIDE_EFFECT = "side_effect"
    SITE_CLOSURE = "site_closure"
    SKILL_PRACTICE = "skill_practice"
    SKILLS = "skills"
    SLIDING_FEE_SCHEDULE = "sliding_fee_schedule"
    STAFF = "staff"
    STAFF_HOURS = "staff_hours"
    STAFF_LIST = "staff_list"
    TREATMENT_PLAN = "treatment_plan"
    UR_PACKET = "ur_packet"
    USE_DISORDER = "use_disorder"

    # A record released through the JSON API (api.disclose.release).
    API_ALLERGIES = "api.allergies"
    API_CONSENTS = "api.consents"
    API_MEDICATIONS = "api.medications"
    API_NOTE = "api.note"
    API_NOTES = "api.notes"
    API_PARTICIPANT = "api.participant"
    API_SCHEDULE = "api.schedule"

    # Platform administration of a program (care's director pages).
    CARE_PROGRAM = "care.Program"

    # A FHIR resource read or searched, by its resource type (fhir.registry.SPECS), and
    # the bulk $export.
    FHIR_EXPORT = "fhir.$export"
    FHIR_APPOINTMENT = "fhir.Appointment"
    FHIR_CONDITION = "fhir.Condition"
    FHIR_CONSENT = "fhir.Consent"
    FHIR_COVERAGE = "fhir.Coverage"
    FHIR_ENCOUNTER = "fhir.Encounter"
    FHIR_EPISODE_OF_CARE = "fhir.EpisodeOfCare"
    FHIR_HEALTHCARE_SERVICE = "fhir.HealthcareService"
    FHIR_LOCATION = "fhir.Location"
    FHIR_MEDICATION_REQUEST = "fhir.MedicationRequest"
    FHIR_OBSERVATION = "fhir.Observation"
    FHIR_ORGANIZATION = "fhir.Organization"
    FHIR_PATIENT = "fhir.Patient"
    FHIR_PRACTITIONER = "fhir.Practitioner"

    # The treatment finder's records.
    FINDER_CONTACT_REQUEST = "finder.ContactRequest"
    FINDER_IMPORT_RUN = "finder.ImportRun"
    FINDER_LISTING = "finder.Listing"

    # SMART on FHIR: client registration, launch and tokens.
    OAUTH_CLIENT = "oauth.client"
    OAUTH_LAUNCH = "oauth.launch"
    OAUTH_TOKEN = "oauth.token"  # noqa: S105 - an object type, not a secret

    # A printed record (clinical.pdf.print_release), by its record kind.
    PRINT_NOTE = "print.note"
    PRINT_TREATMENT_PLAN = "print.treatment_plan"

    @classmethod
    def admin_page(cls, url_name: str | None) -> ObjectType:
        """The object type of a Django admin page: "admin:<url name>" ("admin:page" when
        the URL has no name), cut to the column's 60 characters."""
        return cls(f"{ADMIN_PAGE_PREFIX}{url_name or 'page'}"[:60])

    @classmethod
    def _missing_(cls, value: object) -> ObjectType | None:
        # Only the admin-page family is accepted beyond the members: a pseudo-member
        # whose value is the page's "admin:<url name>" (as Flag enums make theirs).
        if (isinstance(value, str) and value.startswith(ADMIN_PAGE_PREFIX)
                and len(value) > len(ADMIN_PAGE_PREFIX) and len(value) <= 60):
            member = str.__new__(cls, value)
            member._name_ = "ADMIN_PAGE"
            member._value_ = value
            member._label_ = value  # type: ignore[attr-defined]
            return member
        return None


__all__ = ["ADMIN_PAGE_PREFIX", "Action", "ObjectType"]
