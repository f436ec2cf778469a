"""A small 835 (005010X221A1) reader, and a writer used by the demo and tests to play the
payer. The reader keeps what posting needs: payment, claims (CLP), service lines (SVC),
adjustments (CAS, six triplets each) and remark codes (LQ*HE, MOA/MIA)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from .writer import ELE, REP, SEG, SUB, clean, money


class RemitError(ValueError):
    """The text is not an 835 this reader understands; the message says where."""


@dataclass
class Adj:
    group: str
    reason: str
    amount: Decimal


@dataclass
class ServicePayment:
    procedure: str
    charge: Decimal
    paid: Decimal
    units: int = 1
    service_date: date | None = None
    adjustments: list[Adj] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)


@dataclass
class ClaimRemit:
    control_number: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_number: str = ""
    adjustments: list[Adj] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    services: list[ServicePayment] = field(default_factory=list)
    patient_last: str = "PATIENT"
    patient_first: str = ""
    member_id: str = ""


@dataclass
class Remit:
    total_paid: Decimal
    payment_date: date
    trace_number: str
    payer_name: str = ""
    payer_id: str = ""
    claims: list[ClaimRemit] = field(default_factory=list)


def _dec(value: str, where: str) -> Decimal:
    try:
        return Decimal(value or "0")
    except InvalidOperation as exc:
        raise RemitError(f"{where}: “{value}” is not an amount") from exc


def _date(value: str, where: str) -> date:
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError as exc:
        raise RemitError(f"{where}: “{value}” is not a date (CCYYMMDD)") from exc


def _cas(el: list[str], where: str) -> list[Adj]:
    out = []
    for i in range(2, min(len(el), 20), 3):
        if el[i]:
            out.append(Adj(el[1], el[i], _dec(el[i + 1] if i + 1 < len(el) else "0", where)))
    return out


def parse_835(text: str) -> Remit:
    text = text.strip()
    if not text.startswith("ISA") or len(text) < 106:
        raise RemitError("The file does not start with an ISA interchange header.")
    ele, sub, seg_term = text[3], text[104], text[105]
    segments = [s.strip() for s in text.split(seg_term) if s.strip()]
    remit: Remit | None = None
    claim: ClaimRemit | None = None
    svc: ServicePayment | None = None
    payer_loop = False
    seen_st = False
    for n, raw in enumerate(segments, start=1):
        el = raw.split(ele)
        tag = el[0]
        where = f"segment {n} ({tag})"
        el += [""] * (20 - len(el))
        if tag == "ST":
            if el[1] != "835":
                raise RemitError(f"{where}: transaction set {el[1]} is not an 835.")
            seen_st = True
        elif tag == "BPR":
            if not el[16]:
                raise RemitError(f"{where}: the payment date (BPR16) is missing.")
            remit = Remit(_dec(el[2], where), _date(el[16], where), "")
        elif tag == "TRN" and remit is not None:
            remit.trace_number = el[2]
        elif tag == "N1":
            payer_loop = el[1] == "PR"
            if payer_loop and remit is not None:
                remit.payer_name = el[2]
        elif tag == "REF" and payer_loop and el[1] == "2U" and remit is not None:
            remit.payer_id = el[2]
        elif tag == "CLP":
            if remit is None:
                raise RemitError(f"{where}: a claim comes before the BPR payment segment.")
            claim = ClaimRemit(el[1], el[2], _dec(el[3], where), _dec(el[4], where),
                               _dec(el[5], where), el[7])
            remit.claims.append(claim)
            svc = None
        elif tag == "SVC" and claim is not None:
            proc = el[1].split(sub)
            svc = ServicePayment(proc[1] if len(proc) > 1 else proc[0], _dec(el[2], where),
                                 _dec(el[3], where), int(el[5] or 1) if el[5].isdigit() else 1)
            claim.services.append(svc)
        elif tag == "DTM" and svc is not None and el[1] in ("472", "150"):
            svc.service_date = _date(el[2], where)
        elif tag == "CAS" and claim is not None:
            (svc.adjustments if svc is not None else claim.adjustments).extend(_cas(el, where))
        elif tag == "LQ" and svc is not None and el[1] == "HE":
            svc.remarks.append(el[2])
        elif tag in ("MOA", "MIA") and claim is not None:
            start = 3 if tag == "MOA" else 5
            claim.remarks += [c for c in el[start:start + 5] if c and not c[0].isdigit()]
        elif tag == "SE":
            payer_loop = False
    if not seen_st or remit is None:
        raise RemitError("No 835 transaction with a BPR payment segment was found.")
    if not remit.trace_number:
        raise RemitError("The 835 has no TRN trace number.")
    return remit


def _s(*elements: object) -> str:
    parts = [str(e) for e in elements]
    while parts and parts[-1] == "":
        parts.pop()
    return ELE.join(parts) + SEG


def write_835(remit: Remit, *, sender_id: str, receiver_id: str, payee_name: str,
              payee_npi: str, created: datetime, control_number: int = 1) -> str:
    """An 835 for tests and the demo (what a payer would send)."""
    icn = f"{control_number:09d}"
    isa = ELE.join(["ISA", "00", " " * 10, "00", " " * 10, "ZZ", sender_id.ljust(15), "ZZ",
                    receiver_id.ljust(15), created.strftime("%y%m%d"), created.strftime("%H%M"),
                    REP, "00501", icn, "0", "P", SUB]) + SEG
    body = [
        _s("ST", "835", "0001"),  # ST03 is "not used" in the 835 TR3
        _s("BPR", "I", money(remit.total_paid), "C", "ACH", "CCP", "01", "999999999", "DA",
           "123456", "1512345678", "", "01", "999988880", "DA", "98765",
           remit.payment_date.strftime("%Y%m%d")),
        _s("TRN", "1", clean(remit.trace_number, 50), "1512345678"),
        _s("DTM", "405", remit.payment_date.strftime("%Y%m%d")),
        _s("N1", "PR", clean(remit.payer_name, 60)),
        _s("N3", "1 PAYER WAY"), _s("N4", "COLUMBUS", "OH", "43215"),
        _s("REF", "2U", clean(remit.payer_id or "PAYER", 50)),
        _s("PER", "BL", "PROVIDER SERVICES", "TE", "8005550100"),
        _s("N1", "PE", clean(payee_name, 60), "XX", payee_npi),
        _s("LX", "1"),
    ]
    for c in remit.claims:
        body.append(_s("CLP", clean(c.control_number, 38), c.status, money(c.charge),
                       money(c.paid), money(c.patient_responsibility) if
                       c.patient_responsibility else "", "13", c.payer_claim_number or "0"))
        for a in c.adjustments:
            body.append(_s("CAS", a.group, a.reason, money(a.amount)))
        body.append(_s("NM1", "QC", "1", clean(c.patient_last, 60), clean(c.patient_first, 35),
                       "", "", "", "MI" if c.member_id else "", clean(c.member_id, 80)))
        for s in c.services:
            body.append(_s("SVC", SUB.join(["HC", s.procedure]), money(s.charge), money(s.paid),
                           "", s.units))
            if s.service_date:
                body.append(_s("DTM", "472", s.service_date.strftime("%Y%m%d")))
            for a in s.adjustments:
                body.append(_s("CAS", a.group, a.reason, money(a.amount)))
            for r in s.remarks:
                body.append(_s("LQ", "HE", r))
    se = _s("SE", len(body) + 1, "0001")
    gs = _s("GS", "HP", sender_id, receiver_id, created.strftime("%Y%m%d"),
            created.strftime("%H%M"), control_number, "X", "005010X221A1")
    return "\n".join([isa, gs, *body, se, _s("GE", 1, control_number), _s("IEA", 1, icn)]) + "\n"
