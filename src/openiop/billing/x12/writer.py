"""A small X12 5010 writer for 837I (005010X223A2) and 837P (005010X222A1).

Pure: it takes plain dataclasses and returns the interchange text. Segment order and
element use follow the ASC X12 5010 technical reports (TR3) for the two transactions;
the tests validate the output with pyx12's maps of those guides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

SEG = "~"
ELE = "*"
SUB = ":"
REP = "^"
VERSION = {"I": "005010X223A2", "P": "005010X222A1"}
_UNSAFE = re.compile(r"[~*:^\r\n]")


def clean(value: object, max_len: int | None = None) -> str:
    """Text safe inside an element: separators removed, upper case, trimmed."""
    text = _UNSAFE.sub(" ", str(value or "")).strip().upper()
    text = re.sub(r"\s+", " ", text)
    return text[:max_len] if max_len else text


def money(amount: Decimal) -> str:
    q = Decimal(amount).quantize(Decimal("0.01"))
    text = format(q, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class Party:
    last_or_org: str
    first: str = ""
    id_qualifier: str = ""
    identifier: str = ""


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    state: str
    zip_code: str


@dataclass(frozen=True)
class Line:
    service_date: date
    hcpcs: str
    amount: Decimal
    units: int = 1
    revenue_code: str = ""
    modifiers: tuple[str, ...] = ()


@dataclass
class ClaimData:
    control_number: str
    claim_type: str  # I or P
    total: Decimal
    period_start: date
    period_end: date
    subscriber: Party
    subscriber_address: Address | None
    subscriber_dob: date | None
    payer: Party
    claim_filing: str  # SBR09: MA Medicare A, MB Medicare B, MC Medicaid, CI commercial
    relationship: str = "18"
    group_number: str = ""
    patient: Party | None = None  # when the patient is not the subscriber
    patient_address: Address | None = None
    patient_dob: date | None = None
    facility_code: str = "13"  # I: type of bill (facility + classification); P: place of service
    diagnoses: list[str] = field(default_factory=list)  # principal first, without dots
    condition_codes: list[str] = field(default_factory=list)
    attending: Party | None = None
    rendering: Party | None = None
    lines: list[Line] = field(default_factory=list)


@dataclass
class Envelope:
    sender_id: str
    receiver_id: str
    control_number: int
    created: datetime
    submitter: Party
    submitter_contact: str
    submitter_phone: str
    receiver: Party
    billing_provider: Party
    billing_address: Address
    tax_id: str
    taxonomy: str = ""
    usage: str = "P"  # ISA15: P production, T test


def _seg(*elements: object) -> str:
    parts = [str(e) for e in elements]
    while parts and parts[-1] == "":
        parts.pop()
    return ELE.join(parts) + SEG


def _nm1(code: str, party: Party, entity_type: str) -> str:
    return _seg("NM1", code, entity_type, clean(party.last_or_org, 60), clean(party.first, 35),
                "", "", "", party.id_qualifier, clean(party.identifier, 80))


def _address(addr: Address) -> list[str]:
    return [_seg("N3", clean(addr.line1, 55)),
            _seg("N4", clean(addr.city, 30), clean(addr.state, 2), clean(addr.zip_code, 15))]


def _d8(day: date) -> str:
    return day.strftime("%Y%m%d")


def _claim_segments(claim: ClaimData, hl: int) -> list[str]:
    """Loops 2000B (subscriber, HL number `hl` under the billing provider's HL 1) to 2400."""
    out: list[str] = []
    patient_is_subscriber = claim.patient is None
    out.append(_seg("HL", hl, 1, "22", "0" if patient_is_subscriber else "1"))
    out.append(_seg("SBR", "P", claim.relationship if patient_is_subscriber else "",
                    clean(claim.group_number, 50), "", "", "", "", "", claim.claim_filing))
    out.append(_nm1("IL", claim.subscriber, "1"))
    if claim.subscriber_address is not None:
        out += _address(claim.subscriber_address)
    if claim.subscriber_dob is not None:
        out.append(_seg("DMG", "D8", _d8(claim.subscriber_dob), "U"))
    out.append(_nm1("PR", claim.payer, "2"))
    if claim.patient is not None:
        out.append(_seg("HL", hl + 1, hl, "23", "0"))
        out.append(_seg("PAT", claim.relationship))
        out.append(_nm1("QC", Party(claim.patient.last_or_org, claim.patient.first), "1"))
        if claim.patient_address is not None:
            out += _address(claim.patient_address)
        if claim.patient_dob is not None:
            out.append(_seg("DMG", "D8", _d8(claim.patient_dob), "U"))
    institutional = claim.claim_type == "I"
    facility = SUB.join([claim.facility_code, "A" if institutional else "B", "1"])
    if institutional:
        out.append(_seg("CLM", clean(claim.control_number, 38), money(claim.total), "", "",
                        facility, "", "A", "Y", "Y"))
        out.append(_seg("DTP", "434", "RD8",
                        f"{_d8(claim.period_start)}-{_d8(claim.period_end)}"))
        out.append(_seg("CL1", "", "", "01"))
    else:
        out.append(_seg("CLM", clean(claim.control_number, 38), money(claim.total), "", "",
                        facility, "Y", "A", "Y", "Y"))
    principal, *others = claim.diagnoses
    pq, oq = ("ABK", "ABF")
    out.append(_seg("HI", SUB.join([pq, principal]),
                    *([] if institutional else [SUB.join([oq, c]) for c in others[:11]])))
    if institutional and others:
        out.append(_seg("HI", *[SUB.join([oq, c]) for c in others[:12]]))
    if institutional and claim.condition_codes:
        out.append(_seg("HI", *[SUB.join(["BG", c]) for c in claim.condition_codes[:12]]))
    if institutional and claim.attending is not None:
        out.append(_nm1("71", claim.attending, "1"))
    if not institutional and claim.rendering is not None:
        out.append(_nm1("82", claim.rendering, "1"))
    pointer = SUB.join(str(i) for i in range(1, min(len(claim.diagnoses), 4) + 1))
    for n, line in enumerate(claim.lines, start=1):
        out.append(_seg("LX", n))
        proc = SUB.join(["HC", line.hcpcs, *line.modifiers])
        if institutional:
            out.append(_seg("SV2", line.revenue_code, proc, money(line.amount), "UN", line.units))
        else:
            out.append(_seg("SV1", proc, money(line.amount), "UN", line.units, "", "", pointer))
        out.append(_seg("DTP", "472", "D8", _d8(line.service_date)))
    return out


def write_837(envelope: Envelope, claims: list[ClaimData]) -> str:
    """One interchange, one functional group, one transaction set holding every claim."""
    if not claims:
        raise ValueError("no claims to write")
    kinds = {c.claim_type for c in claims}
    if len(kinds) != 1:
        raise ValueError("an 837 holds either institutional or professional claims, not both")
    kind = kinds.pop()
    for c in claims:
        if not c.diagnoses:
            raise ValueError(f"claim {c.control_number} has no diagnosis")
        if not c.lines:
            raise ValueError(f"claim {c.control_number} has no lines")
    version = VERSION[kind]
    icn = f"{envelope.control_number:09d}"
    when = envelope.created
    isa = ELE.join([
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", clean(envelope.sender_id, 15).ljust(15),
        "ZZ", clean(envelope.receiver_id, 15).ljust(15), when.strftime("%y%m%d"),
        when.strftime("%H%M"), REP, "00501", icn, "0", envelope.usage, SUB,
    ]) + SEG
    gs = _seg("GS", "HC", clean(envelope.sender_id, 15), clean(envelope.receiver_id, 15),
              when.strftime("%Y%m%d"), when.strftime("%H%M"), envelope.control_number, "X", version)
    body = [
        _seg("ST", "837", "0001", version),
        _seg("BHT", "0019", "00", icn, when.strftime("%Y%m%d"), when.strftime("%H%M"), "CH"),
        _nm1("41", envelope.submitter, "2"),
        _seg("PER", "IC", clean(envelope.submitter_contact, 60), "TE",
             re.sub(r"\D", "", envelope.submitter_phone)[:10]),
        _nm1("40", envelope.receiver, "2"),
        _seg("HL", 1, "", "20", "1"),
    ]
    if envelope.taxonomy:
        body.append(_seg("PRV", "BI", "PXC", envelope.taxonomy))
    body.append(_nm1("85", envelope.billing_provider, "2"))
    body += _address(envelope.billing_address)
    body.append(_seg("REF", "EI", re.sub(r"\D", "", envelope.tax_id)))
    hl = 2
    for claim in claims:
        body += _claim_segments(claim, hl)
        hl += 2 if claim.patient is not None else 1
    se = _seg("SE", len(body) + 1, "0001")
    ge = _seg("GE", 1, envelope.control_number)
    iea = _seg("IEA", 1, icn)
    return "\n".join([isa, gs, *body, se, ge, iea]) + "\n"
