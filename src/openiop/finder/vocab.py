"""The finder's controlled vocabularies and the national locator's service codes.

Every multi-valued fact on a Listing is a list of the codes below, so search, import,
compare and the API agree on one spelling. Labels are what people read.

The locator codes are those of SAMHSA's FindTreatment.gov locator, fed by the National
Substance Use and Mental Health Services Survey (N-SUMHSS,
https://www.samhsa.gov/data/data-we-collect/n-sumhss-national-substance-use-and-mental-health-services-survey).
The code list was read from the locator's public JSON export as open-source locator clients
use it, not from an official code book, so it is data to check against SAMHSA's service-code
definitions (docs/finder-locator.md). They live here as data; a code we do not map is kept
on the listing (`locator_codes`) and reported by the import, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openiop.care.levels import LevelOfCare

FOCUS = {
    "mh": "Mental health",
    "su": "Substance use",
    "co": "Co-occurring (both)",
}
LEVELS = {value: label for value, label in LevelOfCare.choices}
POPULATIONS = {
    "adults": "Adults",
    "adolescents": "Adolescents",
    "young_adults": "Young adults",
    "older_adults": "Older adults",
    "veterans": "Veterans",
    "active_duty": "Active-duty military",
    "lgbtq": "LGBTQ+ people",
    "pregnant_postpartum": "Pregnant or postpartum people",
    "criminal_justice": "People involved with the justice system",
}
# The age groups a person can pick (one at a time); the rest are "special groups".
AGE_GROUPS = ("adults", "adolescents", "young_adults", "older_adults")
THERAPIES = {
    "individual": "Individual therapy",
    "group": "Group therapy",
    "family": "Family therapy",
    "cbt": "Cognitive behavioral therapy (CBT)",
    "dbt": "Dialectical behavior therapy (DBT)",
    "emdr": "EMDR",
}
MOUD = {
    "buprenorphine": "Buprenorphine",
    "methadone": "Methadone",
    "naltrexone": "Naltrexone",
}
HOLISTIC = {
    "mindfulness": "Mindfulness",
    "yoga": "Yoga",
    "art": "Art therapy",
    "exercise": "Exercise",
}
SCHEDULE = {
    "morning": "Mornings",
    "daytime": "Daytime",
    "afternoon": "After school",
    "evening": "Evenings",
    "weekend": "Weekends",
}
PAYMENT = {
    "medicaid": "Medicaid",
    "medicare": "Medicare",
    "private": "Private insurance",
    "military": "Military insurance (TRICARE)",
    "va": "VA funds",
    "state": "State-financed plan",
    "ihs_tribal": "IHS / tribal funds",
    "sliding_scale": "Sliding scale fee",
    "payment_assistance": "Payment assistance",
    "self_pay": "Self-pay (cash)",
}
ACCREDITATION = {
    "carf": "CARF",
    "joint_commission": "The Joint Commission",
    "ncqa": "NCQA",
    "coa": "COA",
    "state_licensed": "State licensed",
}
# Private insurers a person can pick in the search form; imports may name others.
INSURERS = (
    "Aetna", "Anthem", "Blue Cross Blue Shield", "CareSource", "Cigna", "Humana",
    "Medical Mutual", "Molina", "Optum", "UnitedHealthcare",
)
COMMON_LANGUAGES = (
    "English", "Spanish", "American Sign Language", "Arabic", "Chinese", "French",
    "Haitian Creole", "Nepali", "Russian", "Somali", "Vietnamese",
)

VOCABULARIES: dict[str, dict[str, str]] = {
    "levels_of_care": LEVELS,
    "populations": POPULATIONS,
    "therapies": THERAPIES,
    "moud": MOUD,
    "holistic": HOLISTIC,
    "schedule_options": SCHEDULE,
    "payment": PAYMENT,
    "accreditation": ACCREDITATION,
}


@dataclass
class CodeEffect:
    """What one locator code means for a listing."""

    values: dict[str, tuple[str, ...]] = field(default_factory=dict)  # list field -> codes
    flags: dict[str, object] = field(default_factory=dict)  # scalar field -> value


def _v(**values: tuple[str, ...] | str) -> CodeEffect:
    return CodeEffect(values={k: (v,) if isinstance(v, str) else v for k, v in values.items()})


def _f(**flags: object) -> CodeEffect:
    return CodeEffect(flags=flags)


# FindTreatment.gov filter codes (docs/finder-locator.md); data, to be checked against SAMHSA.
LOCATOR_CODES: dict[str, CodeEffect] = {
    # Service setting
    "OIT": _v(levels_of_care="IOP"),
    "ODT": _v(levels_of_care="PHP"),
    "ORT": _v(levels_of_care="OP"),
    "OP": _v(levels_of_care="OP"),
    "OMB": _f(medication_management=True),
    "OD": CodeEffect(),
    "HI": _v(levels_of_care="INP"),
    "HID": _v(levels_of_care="INP"),
    "HIT": _v(levels_of_care="INP"),
    "RES": _v(levels_of_care="RES"),
    "RS": _v(levels_of_care="RES"),
    "RL": _v(levels_of_care="RES"),
    "RD": _v(levels_of_care="RES"),
    "TELE": _f(telehealth=True),
    # Payment
    "MD": _v(payment="medicaid"),
    "MC": _v(payment="medicare"),
    "PI": _v(payment="private"),
    "MI": _v(payment="military"),
    "SF": _v(payment="self_pay"),
    "SS": _v(payment="sliding_scale"),
    "PA": _v(payment="payment_assistance"),
    "SI": _v(payment="state"),
    "ITU": _v(payment="ihs_tribal"),
    "VAF": _v(payment="va"),
    # Age groups
    "CHLD": _v(populations="adolescents"),
    "YAD": _v(populations="young_adults"),
    "ADLT": _v(populations="adults"),
    "SNR": _v(populations="older_adults"),
    # Languages
    "SP": _v(languages="Spanish"),
    "AH": _v(languages="American Sign Language"),
    "NX": _v(languages="American Indian or Alaska Native languages"),
    "FX": CodeEffect(),
    "F4": _v(languages="Arabic"),
    "F17": _v(languages="Chinese"),
    # Special groups
    "VET": _v(populations="veterans"),
    "ADM": _v(populations="active_duty"),
    "MF": CodeEffect(),
    "GL": _v(populations="lgbtq"),
    "CO": _f(focus="co"),
    "TRMA": CodeEffect(),
    "CJ": _v(populations="criminal_justice"),
    "SMI": CodeEffect(),
    "SED": CodeEffect(),
    "TAY": _v(populations="young_adults"),
    "SE": _v(populations="older_adults"),
    "PTSD": CodeEffect(),
    "HV": CodeEffect(),
    "DV": CodeEffect(),
    # Treatment approaches
    "CBT": _v(therapies="cbt"),
    "DBT": _v(therapies="dbt"),
    "GT": _v(therapies="group"),
    "IPT": _v(therapies="individual"),
    "CFT": _v(therapies="family"),
    "EMDR": _v(therapies="emdr"),
    "IDD": _f(focus="co"),
    # Medications for opioid use disorder
    "OTP": _v(moud="methadone"),
    "MU": _v(moud="methadone"),
    "BU": _v(moud="buprenorphine"),
    "NU": _v(moud="naltrexone"),
    "UB": _v(moud="buprenorphine"),
    "UN": _v(moud="naltrexone"),
    "MOA": CodeEffect(),
}


def label(vocabulary: dict[str, str], code: str) -> str:
    return vocabulary.get(code, code)


def labels(vocabulary: dict[str, str], codes: list[str] | tuple[str, ...]) -> list[str]:
    return [vocabulary.get(c, c) for c in codes]
