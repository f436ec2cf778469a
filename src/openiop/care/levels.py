"""Levels of care and weekly hour rules.

Sources (background in docs/clinical-rules.md, "Levels of care"):
- ASAM levels: OP (1) fewer than 9 h/wk adults, fewer than 6 h/wk adolescents;
  IOP (2.1) adults 9-19 h/wk, youth 6-19 h/wk; PHP (2.5) 20 h/wk or more.
  Mee-Lee D, Shulman GD, Fishman MJ, Gastfriend DR, Miller MM, eds. The ASAM Criteria:
  Treatment Criteria for Addictive, Substance-Related, and Co-Occurring Conditions,
  3rd ed. American Society of Addiction Medicine, 2013.
- A regulation that writes the 2.1 range down: District of Columbia Municipal Regulations
  22-A DCMR 6329 (adults 9-19 h/wk, youth under 21 6-19 h/wk),
  http://dcrules.elaws.us/dcmr/22-a6329
- State licensing example: at least 9 h/wk for ages 18+, at least 6 h/wk for under 18.
  Kansas Department for Aging and Disability Services, SUD licensing standard R03704,
  http://www.aging.ks.gov/WebCourses/StandardsTrainingTool/section_7/R03704.html
- Medicare IOP (Consolidated Appropriations Act 2023, section 4124; from 1 Jan 2024): the
  plan of care shows a need for at least 9 h/wk of therapeutic services. Medicare.gov,
  "Mental health care (intensive outpatient program services)",
  https://www.medicare.gov/coverage/mental-health-care-intensive-outpatient-program-services

The minimums are program settings (Program.weekly_hour_minimum) seeded from these defaults,
so a payer or state with another rule is a data change, not a release.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models


class LevelOfCare(models.TextChoices):
    """Levels of care in the order of increasing intensity."""

    OP = "OP", "Outpatient (ASAM 1)"
    IOP = "IOP", "Intensive outpatient (ASAM 2.1)"
    PHP = "PHP", "Partial hospitalization (ASAM 2.5)"
    RES = "RES", "Residential (ASAM 3.1-3.7)"
    INP = "INP", "Inpatient, medically managed (ASAM 4)"


LEVEL_ORDER: tuple[str, ...] = ("OP", "IOP", "PHP", "RES", "INP")

ASAM_CODES: dict[str, str] = {"OP": "1", "IOP": "2.1", "PHP": "2.5", "RES": "3.5", "INP": "4"}

PLAIN_LANGUAGE: dict[str, str] = {
    "OP": "Outpatient: a therapy visit or group a week or so (under 9 hours a week for adults) "
    "while you live at home and keep your usual routine.",
    "IOP": "Intensive outpatient: about 9 to 19 hours a week of groups and individual therapy "
    "(6 or more for teens), usually three days a week, mornings or evenings, so you can keep "
    "working or going to school.",
    "PHP": "Partial hospitalization: treatment most of the day, 20 or more hours a week, "
    "returning home at night.",
    "RES": "Residential: you live at the treatment program for a while, with 24-hour support.",
    "INP": "Inpatient: hospital care with round-the-clock medical and nursing staff, for "
    "withdrawal or safety needs that cannot be managed elsewhere.",
}


def level_rank(level: str) -> int:
    return LEVEL_ORDER.index(level)


def is_step_up(from_level: str, to_level: str) -> bool:
    return level_rank(to_level) > level_rank(from_level)


class Population(models.TextChoices):
    ADULT = "adult", "Adults (18+)"
    ADOLESCENT = "adolescent", "Adolescents (12-17)"


# Age ranges that a program's population admits (inclusive).
POPULATION_AGES: dict[str, tuple[int, int]] = {"adult": (18, 120), "adolescent": (12, 17)}

DEFAULT_WEEKLY_MINIMUM_HOURS: dict[str, Decimal] = {
    # IOP minimum: >= 9 h adults, >= 6 h adolescents (sources above).
    "adult": Decimal("9"),
    "adolescent": Decimal("6"),
}
