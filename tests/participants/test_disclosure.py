"""participants.disclosure: one decision for every channel (42 CFR part 2 as amended by the
final rule of 16 February 2024, 89 FR 12472): consent matched on recipient and purpose,
active at the moment, the program's own staff exempt, the 2.32 notice, the audit."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.utils import timezone

from openiop.audit.models import AccessEvent
from openiop.audit.vocabulary import ObjectType
from openiop.participants import disclosure as dis
from openiop.participants.models import Consent, DisclosurePurpose, Participant, RecipientKind
from tests.fhir.conftest import part2_consent, registered_app

TREATMENT = DisclosurePurpose.TREATMENT


@pytest.fixture
def app(world):
    return registered_app(world.director)


def decide(world, recipient, purpose=TREATMENT, participant=None, records=None, **kw):
    person = participant or world.participant
    kw.setdefault("object_type", ObjectType.PARTICIPANT)
    return dis.disclosure(world.clinician, person, records or [person], channel="test",
                          recipient=recipient, purpose=purpose, **kw)


def consent(world, **fields):
    base = {"participant": world.participant, "kind": Consent.Kind.PART2_DISCLOSURE,
            "recipient_kind": RecipientKind.ORGANIZATION, "recipient": "Harbor Clinic",
            "purpose_code": TREATMENT}
    return Consent.objects.create(**(base | fields))


HARBOR = dis.Recipient(RecipientKind.ORGANIZATION, "Harbor Clinic")


def test_a_consent_naming_the_recipient_for_the_purpose_releases_with_the_notice(world):
    c = consent(world)
    decision = decide(world, dis.Recipient(RecipientKind.ORGANIZATION, " harbor clinic"))
    assert decision.released == [world.participant] and decision.consent == c
    assert decision.notice == dis.NOTICE_FULL and not decision.refused
    event = AccessEvent.objects.get(action="disclose")
    assert event.recipient == "organization:  harbor clinic" and event.purpose == "treatment"
    assert str(c.code) in event.reason


@pytest.mark.parametrize("fields", [
    {"recipient": "Harbor Clinic East"},  # another organization
    {"recipient_kind": RecipientKind.PERSON},  # a person of that name, not the organization
    {"purpose_code": DisclosurePurpose.RESEARCH},  # another purpose
    {"purpose_code": DisclosurePurpose.PAYMENT},
    {"kind": Consent.Kind.FAMILY_ACCESS},  # not a Part 2 consent
])
def test_a_consent_for_another_recipient_or_purpose_does_not_release(world, fields):
    consent(world, **fields)
    decision = decide(world, HARBOR)
    assert decision.released == [] and decision.withheld_kinds == ("participant",)
    assert decision.notice == "" and decision.consent is None


def test_a_tpo_consent_covers_treatment_payment_and_operations_only(world):
    consent(world, kind=Consent.Kind.PART2_TPO, purpose_code=DisclosurePurpose.TPO)
    for purpose in (TREATMENT, DisclosurePurpose.PAYMENT, DisclosurePurpose.OPERATIONS):
        assert decide(world, HARBOR, purpose, audit=False).released
    assert not decide(world, HARBOR, DisclosurePurpose.RESEARCH, audit=False).released
    assert not decide(world, HARBOR, "", audit=False).released


@pytest.mark.parametrize("timing", ["expired", "revoked", "not yet granted"])
def test_an_expired_revoked_or_future_consent_does_not_release(world, timing):
    now = timezone.now()
    consent(world, granted_at=now + timedelta(days=1) if timing == "not yet granted"
            else now - timedelta(days=30),
            expires_at=now - timedelta(seconds=1) if timing == "expired" else None,
            revoked_at=now - timedelta(seconds=1) if timing == "revoked" else None)
    assert decide(world, HARBOR).released == []


def test_a_class_of_recipients_includes_a_payer(world):
    recipient = dis.Recipient(RecipientKind.ORGANIZATION, "Acme Health",
                              designations=dis.PAYER_DESIGNATIONS)
    consent(world, recipient_kind=RecipientKind.CLASS, recipient="My health plans",
            purpose_code=DisclosurePurpose.PAYMENT)
    assert decide(world, recipient, DisclosurePurpose.PAYMENT).released
    assert not decide(world, HARBOR, DisclosurePurpose.PAYMENT).released  # not a payer


def test_an_app_matches_only_a_consent_linked_to_it(world, app):
    other = registered_app(world.director, name="Other app")
    part2_consent(world.participant, app=other, purpose_code=TREATMENT)
    part2_consent(world.participant)  # a class of recipients: no app is in it
    consent(world, recipient=app.name)  # an organization of the app's name: not the app
    assert not decide(world, dis.Recipient.app(app)).released
    part2_consent(world.participant, app=app)
    assert decide(world, dis.Recipient.app(app)).released


def test_the_programs_own_staff_need_no_consent_and_it_is_not_a_disclosure(world):
    decision = decide(world, dis.Recipient.program_staff(world.clinician))
    assert decision.released == [world.participant] and not decision.is_disclosure
    assert decision.notice == dis.NOTICE_FULL  # still a Part 2 record, still the notice
    assert not AccessEvent.objects.filter(action__in=("disclose", "denied")).exists()


def test_records_that_are_not_part2_go_to_an_outside_recipient_without_a_notice(world):
    world.program.focus = "mh"
    world.program.save()
    decision = decide(world, HARBOR)
    assert decision.released == [world.participant] and decision.notice == ""
    assert AccessEvent.objects.get(action="disclose").recipient == HARBOR.label


def test_a_substance_use_record_is_part2_on_its_own(world):
    world.program.focus = "mh"
    world.program.save()
    records = [dis.Record("MedicationOrder", "sertraline"),
               dis.Record("MedicationOrder", "buprenorphine", sud_record=True)]
    decision = decide(world, HARBOR, records=records)
    assert decision.released == ["sertraline"] and decision.withheld_kinds == (
        "MedicationOrder",)
    world.org.is_part2_program = False
    world.org.save()
    assert len(decide(world, HARBOR, records=records).released) == 2


def test_the_program_chooses_the_abbreviated_notice(world):
    world.org.part2_notice = "abbreviated"
    world.org.save()
    consent(world)
    notice = decide(world, HARBOR).notice
    assert notice == "42 CFR part 2 prohibits unauthorized use or disclosure of these records."


def test_the_full_notice_is_the_2024_statement(world):
    assert dis.NOTICE_FULL.startswith("This record which has been disclosed to you is "
                                      "protected by Federal confidentiality rules")
    assert "42 CFR 2.64 or 2.65" in dis.NOTICE_FULL and "45 CFR part 164" in dis.NOTICE_FULL
    assert dis.notice_for(world.org) == dis.NOTICE_FULL  # the default


def test_a_refusal_is_audited_with_the_recipient_and_purpose(world):
    decision = decide(world, HARBOR, DisclosurePurpose.RESEARCH)
    assert decision.refused
    event = AccessEvent.objects.get(action="denied")
    assert event.participant == world.participant and event.recipient == HARBOR.label
    assert event.purpose == "research" and "withheld" in event.reason
    assert not AccessEvent.objects.filter(action="disclose").exists()


@pytest.mark.parametrize("case", ["match", "other purpose", "other recipient", "revoked",
                                  "staff", "not part2"])
def test_the_sql_gate_agrees_with_the_decision(world, case):
    c = consent(world)
    now = timezone.now()
    recipient, purpose = HARBOR, TREATMENT
    if case == "other purpose":
        purpose = DisclosurePurpose.RESEARCH
    elif case == "other recipient":
        recipient = dis.Recipient(RecipientKind.ORGANIZATION, "Elsewhere")
    elif case == "revoked":
        Consent.objects.filter(pk=c.pk).update(revoked_at=now - timedelta(minutes=1))
    elif case == "staff":
        recipient = dis.Recipient.program_staff(world.clinician)
    elif case == "not part2":
        Consent.objects.filter(pk=c.pk).delete()
        world.program.focus = "mh"
        world.program.save()
    in_sql = Participant.objects.filter(pk=world.participant.pk).filter(
        dis.released_q("", None, recipient, purpose, now)).exists()
    assert in_sql == bool(decide(world, recipient, purpose, audit=False).released)


def test_the_data_migration_maps_free_text_sensibly():
    mapping = importlib.import_module("openiop.participants.migrations.0004_disclosure_fields")
    assert mapping.recipient_kind("part2_tpo", "Riverbend and payers") == "class"
    assert mapping.recipient_kind("part2_disclosure", "my treating providers") == "class"
    assert mapping.recipient_kind("part2_disclosure", "Harbor Clinic") == "organization"
    assert mapping.recipient_kind("part2_disclosure", "Dr. Lee") == "person"
    assert mapping.recipient_kind("family_access", "Pat Parent") == "person"
    assert mapping.purpose_code("part2_tpo", "whatever it says") == "tpo"
    assert mapping.purpose_code("part2_disclosure", "Coordination of care") == "treatment"
    assert mapping.purpose_code("part2_disclosure", "billing my insurer") == "payment"
    assert mapping.purpose_code("part2_disclosure", "at my request") == "patient_request"
    assert mapping.purpose_code("part2_disclosure", "a study of outcomes research") == "research"
    assert mapping.purpose_code("part2_disclosure", "court hearing") == "other"
    assert mapping.purpose_code("family_access", "family involvement") == ""


def test_a_printed_release_names_a_person_or_organization_and_a_coded_purpose(world):
    from django.core.exceptions import ValidationError

    assert dis.party_from_params({}, world.clinician)[0].internal
    recipient, purpose = dis.party_from_params(
        {"release_to": "organization", "recipient": "Harbor Clinic", "purpose": "treatment"},
        world.clinician)
    assert recipient == HARBOR and purpose == "treatment"
    with pytest.raises(ValidationError) as bad:
        dis.party_from_params({"release_to": "class", "purpose": "fun"}, world.clinician)
    assert set(bad.value.message_dict) == {"release_to", "recipient", "purpose"}


# 42 CFR 2.32(a)(1) as amended by the final rule of 16 February 2024 (89 FR 12472), sentence
# by sentence; the statement must go out word for word.
STATEMENT_1 = [
    "This record which has been disclosed to you is protected by Federal confidentiality "
    "rules (42 CFR part 2).",
    "These rules prohibit you from using or disclosing this record, or testimony that "
    "describes the information contained in this record, in any civil, criminal, "
    "administrative, or legislative proceedings by any Federal, State, or local authority, "
    "against the patient, unless authorized by the consent of the patient, except as "
    "provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR "
    "2.64 or 2.65.",
    "In addition, the Federal rules prohibit you from making any other use or disclosure of "
    "this record unless at least one of the following applies:",
    "(i) Further use or disclosure is expressly permitted by the written consent of the "
    "individual whose information is being disclosed in this record or as otherwise "
    "permitted by 42 CFR part 2.",
    "(ii) You are a covered entity or business associate and have received the record for "
    "treatment, payment, or health care operations, or",
    "(iii) You have received the record from a covered entity or business associate as "
    "permitted by 45 CFR part 164, subparts A and E.",
    "A general authorization for the release of medical or other information is NOT "
    "sufficient to meet the required elements of written consent to further use or "
    "redisclose the record (see 42 CFR 2.31).",
]


def test_the_notices_are_the_2024_statements_word_for_word():
    assert " ".join(STATEMENT_1) == dis.NOTICE_FULL
    # 2.32(a)(2): "use or disclosure" since 2024 (the 2018 text said "disclosure").
    assert dis.NOTICE_ABBREVIATED == (
        "42 CFR part 2 prohibits unauthorized use or disclosure of these records.")
    assert set(dis.NOTICES.values()) == {dis.NOTICE_FULL, dis.NOTICE_ABBREVIATED}


def test_a_batch_decides_each_participant_as_alone_in_a_fixed_few_queries(
        world, app, django_assert_max_num_queries):
    # A search page asks for all its participants at once (disclosures); each answer must be
    # the one `disclosure` gives that participant alone, and the audit the same events.
    from tests import factories as f

    mh = f.program(world.org, world.site, name="MH IOP", focus="mh")
    part2_consent(world.participant, app=app)  # world.program is co-occurring: Part 2
    moud, plain = f.participant(world.org), f.participant(world.org)
    unconsented = f.participant(world.org)
    f.episode(moud, mh)
    f.episode(plain, mh)
    f.episode(unconsented, world.program)
    offers = [
        dis.Offer(world.participant, [dis.Record("Observation", "score")]),
        dis.Offer(moud, [dis.Record("MedicationRequest", "moud", sud_record=True),
                         dis.Record("Observation", "score")]),
        dis.Offer(plain, [dis.Record("Observation", "score")]),
        dis.Offer(unconsented, [dis.Record("Observation", "score")], count_only=2),
        # decided by the caller (in SQL, protected_q): not asked again
        dis.Offer(unconsented, [dis.Record("Coverage", "cov", part2=False)]),
    ]
    recipient = dis.Recipient.app(app)
    alone = [dis.disclosure(world.clinician, o.participant, o.records, channel="test",
                            recipient=recipient, purpose=TREATMENT, audit=False,
                            object_type=ObjectType.FHIR_OBSERVATION, count_only=o.count_only)
             for o in offers]
    # Which are Part 2 participants, their consents, one batch of events.
    with django_assert_max_num_queries(8):
        batch = dis.disclosures(world.clinician, offers, channel="test", recipient=recipient,
                                purpose=TREATMENT, object_type=ObjectType.FHIR_OBSERVATION)

    def answer(d):
        return (d.released, d.withheld_kinds, d.notice, d.consent, d.part2_released,
                d.withheld)

    assert [answer(d) for d in batch] == [answer(d) for d in alone]
    assert [answer(d) for d in batch] == [
        (["score"], (), dis.NOTICE_FULL, world.participant.consents.get(), True, 0),
        (["score"], ("MedicationRequest",), "", None, False, 1),
        (["score"], (), "", None, False, 0),
        ([], ("Observation",), "", None, False, 3),
        (["cov"], (), "", None, False, 0),
    ]
    assert [[(e.action, e.participant_id) for e in d.events] for d in batch] == [
        [("disclose", world.participant.pk)],
        [("disclose", moud.pk), ("denied", moud.pk)],
        [("disclose", plain.pk)],
        [("denied", unconsented.pk)],
        [("disclose", unconsented.pk)],
    ]
    stored = AccessEvent.objects.filter(object_type=ObjectType.FHIR_OBSERVATION).order_by("seq")
    assert [e.pk for e in stored] == [e.pk for d in batch for e in d.events]
    assert "under 42 CFR Part 2 consent" in stored[0].reason
    assert "3 record(s) withheld" in stored[4].reason
    from openiop.audit.services import audit_verify

    assert audit_verify() is None
