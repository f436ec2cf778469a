"""Disclosure of a participant's records: decided once, for every channel.

Every way a record leaves OpenIOP asks `disclosure(...)`: FHIR reads and searches
(fhir/engine.py), Bulk `$export` (fhir/bulk.py), the JSON API endpoints that return clinical
records (api/), printed records and PDFs (clinical/pdf.py views) and the utilization-review
packet for a payer (billing/). The answer says which records go, which kinds were withheld
and which notice goes with them; refusals and disclosures are audited with the recipient
and the purpose.

The rule, 42 CFR part 2 as amended by the final rule of 16 February 2024 (89 FR 12472,
effective 16 April 2024; https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2):

- A record is a Part 2 record when the organization is a Part 2 program and either the
  participant has an episode in a substance-use or co-occurring program, or the record is
  itself a substance-use treatment record (e.g. a MOUD order) (2.11 "Part 2 program",
  "Records").
- Communication within the program, among its staff who need the record for the patient's
  diagnosis, treatment or referral, is not a disclosure (2.12(c)(3)): the program's own
  staff (a signed-in session) see what their role allows, as the chart shows it.
- To anyone outside the program (a registered app with an OAuth token, a bulk export, a
  printed record released to someone, a payer), a Part 2 record leaves only under the
  participant's written consent (2.31) that is granted, unexpired and unrevoked now
  (2.31(a)(6)-(7)), that names this recipient, by name or by a general designation that
  includes it (2.31(a)(4)), and whose purpose covers the purpose of this request
  (2.31(a)(5); a TPO consent covers treatment, payment and health care operations, 2.33(b)).
- Each disclosure made with consent carries one of the two statements of 2.32(a): the full
  one of 2.32(a)(1) or the abbreviated one of 2.32(a)(2); the program chooses which
  (Organization.part2_notice).
- A refusal looks like "nothing to show" to the recipient: it must not reveal that the
  person has Part 2 records (2.13(c): acknowledging that a person is a patient is itself
  a disclosure).

docs/privacy-and-part2.md explains this in prose.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.audit.vocabulary import Action, ObjectType

from .models import (
    PURPOSE_COVERS,
    AppPurpose,
    Consent,
    DisclosurePurpose,
    Participant,
    RecipientKind,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

PART2_KINDS = (Consent.Kind.PART2_TPO, Consent.Kind.PART2_DISCLOSURE)
SUD_FOCUSES = ("su", "co")

# --- The notice (42 CFR 2.32(a), final rule of 16 February 2024, 89 FR 12472) -----------
# 2.32 "Notice and copy of consent to accompany disclosure" as amended: "(a) Each disclosure
# made with the patient's written consent must be accompanied by one of the following
# written statements (i.e., paragraph (a)(1) or (2) of this section)". Quoted word for word
# (the amended rule writes "Federal" capitalized and "use or disclosure" where the 2018 text
# said "disclosure" only); a program chooses one (Organization.part2_notice). 2.32(b) also
# asks for a copy of the consent or a clear explanation of its scope with each disclosure.
# 2.32(a)(1), "Statement 1" (items (i) to (iii) run on here as one paragraph):
NOTICE_FULL = (
    "This record which has been disclosed to you is protected by Federal confidentiality "
    "rules (42 CFR part 2). These rules prohibit you from using or disclosing this record, "
    "or testimony that describes the information contained in this record, in any civil, "
    "criminal, administrative, or legislative proceedings by any Federal, State, or local "
    "authority, against the patient, unless authorized by the consent of the patient, "
    "except as provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance with "
    "42 CFR 2.64 or 2.65. In addition, the Federal rules prohibit you from making any other "
    "use or disclosure of this record unless at least one of the following applies: "
    "(i) Further use or disclosure is expressly permitted by the written consent of the "
    "individual whose information is being disclosed in this record or as otherwise "
    "permitted by 42 CFR part 2. (ii) You are a covered entity or business associate and "
    "have received the record for treatment, payment, or health care operations, or "
    "(iii) You have received the record from a covered entity or business associate as "
    "permitted by 45 CFR part 164, subparts A and E. A general authorization for the "
    "release of medical or other information is NOT sufficient to meet the required "
    "elements of written consent to further use or redisclose the record (see 42 CFR 2.31)."
)
# 2.32(a)(2), "Statement 2":
NOTICE_ABBREVIATED = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
NOTICES = {"full": NOTICE_FULL, "abbreviated": NOTICE_ABBREVIATED}


def notice_for(organization: Any) -> str:
    """The 2.32(a) statement the organization chose (the full one by default)."""
    return NOTICES.get(getattr(organization, "part2_notice", "full"), NOTICE_FULL)


def consent_scope(consent: Consent) -> str:
    """2.32(b) (as amended in 2024): each disclosure made with the patient's written consent
    goes with a copy of the consent or a clear explanation of its scope. This is that
    explanation, on one line (it also travels as an HTTP header): the elements 2.31(a)
    requires a consent to state, as this consent states them. No clinical content."""
    signed = consent.signed_on or timezone.localtime(consent.granted_at).date()
    purpose = (consent.get_purpose_code_display() if consent.purpose_code else "")
    if consent.purpose:
        purpose = f"{purpose}: {consent.purpose}" if purpose else consent.purpose
    if consent.expires_at:
        until = timezone.localtime(consent.expires_at).date().isoformat()
    else:
        until = consent.expiry_event or "revoked"
    parts = [
        f"Disclosed under the patient's written consent signed {signed.isoformat()} "
        f"(42 CFR 2.31; scope explained as 42 CFR 2.32(b) requires)",
        f"to: {consent.recipient or consent.get_recipient_kind_display() or 'the named recipient'}",
        f"purpose: {purpose or 'as the consent states'}",
        f"information: {consent.information or 'as the consent states'}",
        f"until: {until}",
        "the patient may revoke it at any time, except where it has already been acted on",
    ]
    text = "; ".join(parts) + "."
    return " ".join(text.split())  # one line: no line breaks in a header


# --- Channels, recipients, purposes --------------------------------------------------------

class Channel:
    FHIR = "fhir"
    BULK = "bulk"
    API = "api"
    PRINT = "print"
    UR_PACKET = "ur_packet"


PROGRAM_STAFF = "program"  # the program's own staff: not a recipient needing consent
UNNAMED = "unnamed"  # outside, but no recipient named (e.g. an export from a staff session)


@dataclass(frozen=True)
class Recipient:
    """Who receives the records. `kind` is a RecipientKind, or PROGRAM_STAFF for the
    program's own staff. `designations` are words of the general designations (classes)
    the recipient falls under, e.g. a payer is a "health plan" (2.31(a)(4))."""

    kind: str
    name: str = ""
    app_id: int | None = None
    designations: tuple[str, ...] = ()

    @classmethod
    def program_staff(cls, user: User | AnonymousUser) -> Recipient:
        return cls(PROGRAM_STAFF, getattr(user, "username", "") or "staff")

    @classmethod
    def app(cls, application: Any) -> Recipient:
        return cls(RecipientKind.APP, application.name, application.pk)

    @property
    def internal(self) -> bool:
        return self.kind == PROGRAM_STAFF

    @property
    def label(self) -> str:
        """As written in the audit trail (no clinical content)."""
        if self.internal:
            return f"program staff: {self.name}"
        if self.kind == UNNAMED:
            return f"no named recipient ({self.name})"
        if self.kind == RecipientKind.APP:
            return f"app #{self.app_id}: {self.name}"
        return f"{self.kind}: {self.name}"


# General designations that include any health plan (2.31(a)(4)).
PAYER_DESIGNATIONS = ("health plan", "insurer", "insurance", "payer", "payor",
                      "third-party payer")


def payer_recipient(payer: Any) -> Recipient:
    return Recipient(RecipientKind.ORGANIZATION, payer.name, designations=PAYER_DESIGNATIONS)


def app_purpose(application: Any) -> str:
    """The purpose of use the app declared when registered ("" when none: matches no
    consent)."""
    row = AppPurpose.objects.filter(application=application).values("purpose_code").first()
    return row["purpose_code"] if row else ""


def request_party(request: HttpRequest) -> tuple[Recipient, str]:
    """(recipient, purpose) of an API or FHIR request: the registered app of a bearer
    token, with its declared purpose; else the signed-in staff member, for treatment."""
    application = getattr(request, "oauth_client", None)
    if application is not None:
        return Recipient.app(application), app_purpose(application)
    return Recipient.program_staff(request.user), DisclosurePurpose.TREATMENT


def party_from_params(data: Any, user: User | AnonymousUser) -> tuple[Recipient, str]:
    """(recipient, purpose) of a printed record: `release_to` (a RecipientKind) with
    `recipient` (the name) and `purpose` (a DisclosurePurpose) when it is released to
    someone outside the program; nothing given means a copy for the program's own use."""
    from django.core.exceptions import ValidationError

    kind = (data.get("release_to") or "").strip()
    if not kind:
        return Recipient.program_staff(user), DisclosurePurpose.TREATMENT
    errors = {}
    if kind not in (RecipientKind.PERSON, RecipientKind.ORGANIZATION):
        errors["release_to"] = "Release to a person or an organization, by name."
    name = (data.get("recipient") or "").strip()
    if not name:
        errors["recipient"] = "Name the recipient of the printed record."
    purpose = (data.get("purpose") or "").strip()
    if purpose not in DisclosurePurpose.values:
        errors["purpose"] = ("Choose the purpose: " + ", ".join(DisclosurePurpose.values) + ".")
    if errors:
        raise ValidationError(errors)
    return Recipient(kind, name[:200]), purpose


# --- Which records are Part 2 records ------------------------------------------------------

def is_part2_participant(participant: Participant) -> bool:
    """Every record of this participant is a Part 2 record."""
    if not participant.organization.is_part2_program:
        return False
    return participant.episodes.filter(program__focus__in=SUD_FOCUSES).exists()


def record_is_part2(participant: Participant, *, sud_record: bool) -> bool:
    if not participant.organization.is_part2_program:
        return False
    return sud_record or is_part2_participant(participant)


def protected_q(participant: str, sud_record: Q | None = None) -> Q:
    """Rows that are Part 2 records, in SQL (`participant`: the path from the row to its
    participant, "" for a participant row)."""
    from openiop.care.models import EpisodeOfCare

    ref = OuterRef(participant or "pk")
    in_sud_program = Exists(EpisodeOfCare.objects.filter(
        participant=ref, program__focus__in=SUD_FOCUSES))
    prefix = f"{participant}__" if participant else ""
    protected = in_sud_program if sud_record is None else (in_sud_program | sud_record)
    return Q(**{f"{prefix}organization__is_part2_program": True}) & Q(protected)


# --- Which consent permits ------------------------------------------------------------------

def active_consent_q(now: Any, prefix: str = "") -> Q:
    """`Consent.is_active_at(now)` as a filter on Consent rows (fields under `prefix`)."""
    return (Q(**{f"{prefix}granted_at__lte": now})
            & (Q(**{f"{prefix}revoked_at__isnull": True}) | Q(**{f"{prefix}revoked_at__gt": now}))
            & (Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": now})))


def _purposes_covering(purpose: str) -> list[str]:
    return [code for code in DisclosurePurpose.values
            if code == purpose or purpose in PURPOSE_COVERS.get(code, ())]


def _recipient_q(recipient: Recipient) -> Q:
    if recipient.kind == RecipientKind.APP:
        return Q(recipient_kind=RecipientKind.APP, recipient_app_id=recipient.app_id)
    named = recipient.name.strip()
    match = Q(pk__in=[])
    if named and recipient.kind in (RecipientKind.PERSON, RecipientKind.ORGANIZATION):
        match |= Q(recipient_kind=recipient.kind, recipient__iexact=named)
    for word in recipient.designations:
        match |= Q(recipient_kind=RecipientKind.CLASS, recipient__icontains=word)
    return match


def consent_q(recipient: Recipient, purpose: str, now: Any) -> Q:
    """The consents that permit disclosing Part 2 records to `recipient` for `purpose`
    at `now` (the one rule; `matching_consent` and the SQL gates both use it)."""
    return (active_consent_q(now) & Q(kind__in=PART2_KINDS) & _recipient_q(recipient)
            & Q(purpose_code__in=_purposes_covering(purpose)))


def matching_consent(participant: Participant, recipient: Recipient, purpose: str,
                     ) -> Consent | None:
    if not purpose:
        return None
    return participant.consents.filter(consent_q(recipient, purpose, timezone.now())).order_by(
        "-granted_at", "-pk").first()


def released_q(participant: str, sud_record: Q | None, recipient: Recipient, purpose: str,
               now: Any) -> Q:
    """Rows that may go to this recipient, in SQL (so that searches page and count only
    what may leave): every row for the program's staff; for anyone else the rows that are
    not Part 2 records, or whose participant has a matching consent."""
    if recipient.internal:
        return Q()
    if not purpose:
        return ~protected_q(participant, sud_record)
    consented = Exists(Consent.objects.filter(consent_q(recipient, purpose, now),
                                              participant=OuterRef(participant or "pk")))
    return ~protected_q(participant, sud_record) | Q(consented)


# --- The decision -------------------------------------------------------------------------

@dataclass(frozen=True)
class Record:
    """One record offered for disclosure: its kind (for the audit and the answer), the
    object, and whether it is a substance-use treatment record on its own."""

    kind: str
    obj: Any = None
    sud_record: bool = False
    # Whether it is a Part 2 record, when the caller already decided it by the same rule
    # (`protected_q`, in the SQL that fetched it); None: decided here.
    part2: bool | None = None


@dataclass
class Decision:
    released: list[Any]
    withheld_kinds: tuple[str, ...]
    notice: str  # the 2.32 statement to attach ("" when no Part 2 record goes)
    consent: Consent | None
    recipient: Recipient
    purpose: str
    part2_released: bool = False
    withheld: int = 0
    events: list[Any] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.withheld)

    @property
    def consent_scope(self) -> str:
        """The 2.32(b) explanation of the consent a Part 2 record went out under ("" when
        none did: the program's own staff, or no Part 2 record released)."""
        if not self.part2_released or self.consent is None or self.recipient.internal:
            return ""
        return consent_scope(self.consent)

    @property
    def statement(self) -> str:
        """What a printed or PDF disclosure carries: the 2.32(a) notice, then the consent's
        scope (2.32(b))."""
        return " ".join(t for t in (self.notice, self.consent_scope) if t)

    @property
    def is_disclosure(self) -> bool:
        return not self.recipient.internal


def _as_record(item: Any) -> Record:
    if isinstance(item, Record):
        return item
    meta = getattr(item, "_meta", None)
    return Record(meta.model_name if meta is not None else type(item).__name__, item)


@dataclass
class Offer:
    """One participant's records offered in a batch (`disclosures`): `object_id` for the
    audit (the participant's code when empty), `count_only` further records already
    withheld in SQL (searches), counted in the audit."""

    participant: Participant
    records: list[Any]
    object_id: Any = ""
    count_only: int = 0


def disclosure(actor: User, participant: Participant, records: Iterable[Any], *, channel: str,
               recipient: Recipient, purpose: str, object_type: ObjectType,
               request: HttpRequest | None = None, object_id: Any = "", audit: bool = True,
               count_only: int = 0) -> Decision:
    """Which of `records` (Record or model instances) may go to `recipient` for `purpose`
    through `channel`; audited (a `disclose` event for an outside recipient, a `denied`
    event when anything was withheld), with the recipient and purpose on each event.

    `count_only`: further records already withheld in SQL (searches), counted in the audit.
    """
    return disclosures(actor, [Offer(participant, list(records), object_id, count_only)],
                       channel=channel, recipient=recipient, purpose=purpose, request=request,
                       object_type=object_type, audit=audit)[0]


def disclosures(actor: User, offers: list[Offer], *, channel: str, recipient: Recipient,
                purpose: str, object_type: ObjectType, request: HttpRequest | None = None,
                audit: bool = True, pending: list[dict[str, Any]] | None = None,
                ) -> list[Decision]:
    """`disclosure` for several participants at once (a page of search results), one
    Decision per offer, in a fixed number of queries whatever their number: one for which
    participants are Part 2 participants (none when every record says, `Record.part2`), one
    for the consents (for an outside recipient, when any participant is of a Part 2
    program) and one batch of audit events (`audit.services.audit_records`). With
    `pending`, the events are added to it for the caller to write with others instead."""
    from openiop.audit.services import audit_records

    items = {id(offer): [_as_record(r) for r in offer.records] for offer in offers}
    undecided = {offer.participant.pk for offer in offers
                 if offer.participant.organization.is_part2_program
                 and any(r.part2 is None for r in items[id(offer)])}
    whole = _part2_participants(undecided)
    flags: dict[int, list[bool]] = {}
    for offer in offers:
        in_program = offer.participant.organization.is_part2_program
        flags[id(offer)] = [
            r.part2 if r.part2 is not None else
            in_program and (r.sud_record or offer.participant.pk in whole)
            for r in items[id(offer)]]
    consents: dict[int, Consent] = {}
    if not recipient.internal:
        # Asked for every participant of a Part 2 program offered, whether or not a Part 2
        # record is among this page's: a page then costs the same queries whatever it holds.
        consents = _matching_consents(
            {offer.participant.pk for offer in offers
             if offer.participant.organization.is_part2_program or offer.count_only},
            recipient, purpose)
    decisions, events = [], []
    for offer in offers:
        decision = _decide(offer, items[id(offer)], flags[id(offer)],
                           consents.get(offer.participant.pk), recipient, purpose)
        decisions.append(decision)
        events.append(_audit_entries(actor, offer, decision, channel=channel,
                                     object_type=object_type, request=request)
                      if audit else [])
    if pending is not None:
        pending += [entry for entries in events for entry in entries]
        return decisions
    written = iter(audit_records([entry for entries in events for entry in entries]))
    for decision, entries in zip(decisions, events, strict=True):
        decision.events = [next(written) for _ in entries]
    return decisions


def _part2_participants(ids: set[int]) -> set[int]:
    """Which of these participants are Part 2 participants as a whole (one query; the
    `is_part2_participant` test for participants of a Part 2 program)."""
    from openiop.care.models import EpisodeOfCare

    if not ids:
        return set()
    return set(EpisodeOfCare.objects.filter(
        participant_id__in=ids, program__focus__in=SUD_FOCUSES).values_list(
        "participant_id", flat=True))


def _matching_consents(ids: set[int], recipient: Recipient, purpose: str,
                       ) -> dict[int, Consent]:
    """`matching_consent` for several participants in one query: the newest match each."""
    if not ids or not purpose:
        return {}
    found: dict[int, Consent] = {}
    for consent in Consent.objects.filter(consent_q(recipient, purpose, timezone.now()),
                                          participant_id__in=ids).order_by(
            "participant_id", "-granted_at", "-pk"):
        found.setdefault(consent.participant_id, consent)
    return found


def _decide(offer: Offer, items: list[Record], part2_flags: list[bool],
            consent: Consent | None, recipient: Recipient, purpose: str) -> Decision:
    released, withheld_kinds = [], []
    part2_released = False
    for record, part2 in zip(items, part2_flags, strict=True):
        if part2 and not recipient.internal and consent is None:
            withheld_kinds.append(record.kind)
            continue
        released.append(record.obj)
        part2_released = part2_released or part2
    return Decision(
        released=released, withheld_kinds=tuple(sorted(set(withheld_kinds))),
        notice=notice_for(offer.participant.organization) if part2_released else "",
        consent=consent if (any(part2_flags) or offer.count_only) else None,
        recipient=recipient, purpose=purpose, part2_released=part2_released,
        withheld=len(withheld_kinds) + offer.count_only)


def _audit_entries(actor: User, offer: Offer, decision: Decision, *, channel: str,
                   object_type: ObjectType, request: HttpRequest | None,
                   ) -> list[dict[str, Any]]:
    """The events of one decision, as `audit_record` arguments: `disclose` when records go
    to an outside recipient, `denied` when any were withheld."""
    participant = offer.participant
    common = {"actor": actor, "participant": participant, "request": request,
              "object_type": object_type, "object_id": offer.object_id or participant.code,
              "recipient": decision.recipient.label, "purpose": decision.purpose}
    out = []
    if decision.released and not decision.recipient.internal:
        reason = f"{channel}: {len(decision.released)} record(s)"
        if decision.consent is not None and decision.part2_released:
            reason += f" under 42 CFR Part 2 consent {decision.consent.code}"
        out.append(common | {"action": Action.DISCLOSE, "reason": reason[:500]})
    if decision.withheld:
        out.append(common | {"action": Action.DENIED,
                             "reason": _refusal_reason(channel, decision.withheld)})
    return out


def _refusal_reason(channel: str, withheld: int) -> str:
    return (f"{channel}: 42 CFR Part 2: {withheld} record(s) withheld, no active consent "
            "naming this recipient for this purpose")[:500]


def audit_refusal(*, actor: User, participant: Participant | None, organization: Any,
                  channel: str, recipient: Recipient, purpose: str, withheld: int,
                  object_type: ObjectType, request: HttpRequest | None = None,
                  object_id: Any = "") -> Any:
    """The `denied` event of a refusal, with the recipient and purpose asked for (also for a
    search that withheld records of several participants: then `participant` is None)."""
    from openiop.audit.services import audit_record

    return audit_record(**refusal_entry(
        actor=actor, participant=participant, organization=organization, channel=channel,
        recipient=recipient, purpose=purpose, withheld=withheld, request=request,
        object_type=object_type, object_id=object_id))


def refusal_entry(*, actor: User, participant: Participant | None, organization: Any,
                  channel: str, recipient: Recipient, purpose: str, withheld: int,
                  object_type: ObjectType, request: HttpRequest | None = None,
                  object_id: Any = "") -> dict[str, Any]:
    """`audit_refusal`'s event as `audit_record` arguments, to write with others
    (audit.services.audit_records)."""
    return {"actor": actor, "action": Action.DENIED, "participant": participant,
            "organization": organization, "request": request,
            "object_type": object_type, "object_id": object_id,
            "recipient": recipient.label, "purpose": purpose,
            "reason": _refusal_reason(channel, withheld)}
