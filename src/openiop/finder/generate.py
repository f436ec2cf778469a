"""Deterministic synthetic directory listings (benchmarks and the demo).

`generate_listings(n=20_000, seed=...)` spreads listings over real ZIP centroids of the
whole country (the `zipcodes` package, offline); with `center` and `radius_miles` it
keeps them around one place (the demo clinic's city). Same arguments, same listings.
Every listing is invented; the names come from the word lists below.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from . import vocab
from .geo import ZipPoint, all_zip_points, haversine_miles
from .models import Listing, build_tags

NAME_FIRST = ("Harbor", "Cedar", "Riverside", "Summit", "Lakeside", "Pinewood", "Beacon",
              "New Horizons", "Crossroads", "Bridgeway", "Meadowbrook", "Northstar",
              "Clearview", "Willow", "Oakridge", "Lighthouse", "Compass", "Fairview",
              "Heritage", "Open Door", "Stillwater", "Keystone", "Maple", "Sunrise")
NAME_KIND = {
    "mh": ("Behavioral Health", "Counseling Services", "Mental Health Center",
           "Wellness Center", "Family Services", "Clinic"),
    "su": ("Recovery Center", "Addiction Services", "Treatment Center", "Recovery Services",
           "Clinic"),
    "co": ("Behavioral Health", "Health Partners", "Treatment Center", "Recovery and Wellness",
           "Integrated Care"),
}
STREETS = ("Main St", "High St", "Broad St", "Oak Ave", "Park Ave", "Church St", "Market St",
           "Elm St", "Washington Ave", "Lincoln Rd", "Maple Ave", "River Rd", "Center St")
LANG_EXTRA = ("Spanish", "Spanish", "Spanish", "American Sign Language", "Arabic", "Chinese",
              "Vietnamese", "Somali", "Russian", "Nepali", "French", "Haitian Creole")


def _sample(rng: random.Random, options: list[str], p: float, k_max: int) -> list[str]:
    chosen = [o for o in options if rng.random() < p]
    return chosen[:k_max]


def _listing(rng: random.Random, i: int, point: ZipPoint, source_name: str) -> Listing:
    focus = rng.choices(["mh", "su", "co"], weights=[35, 30, 35])[0]
    levels = ["IOP"]
    for level, p in (("OP", 0.6), ("PHP", 0.25), ("RES", 0.08)):
        if rng.random() < p:
            levels.append(level)
    levels.sort(key=list(vocab.LEVELS).index)
    ages = rng.choices([["adults"], ["adolescents"], ["adults", "adolescents"],
                        ["adults", "older_adults"], ["adults", "young_adults"]],
                       weights=[50, 12, 18, 10, 10])[0]
    special = _sample(rng, ["veterans", "lgbtq", "pregnant_postpartum", "criminal_justice",
                            "active_duty"], 0.15, 3)
    therapies = ["individual", "group"]
    if rng.random() < 0.55:
        therapies.append("family")
    therapies += _sample(rng, ["cbt", "dbt", "emdr"], 0.4, 3)
    moud = _sample(rng, list(vocab.MOUD), 0.45, 3) if focus != "mh" else []
    schedule = _sample(rng, ["morning", "daytime", "evening", "weekend"], 0.45, 4) or ["daytime"]
    if "adolescents" in ages and rng.random() < 0.7:
        schedule.append("afternoon")
    schedule.sort(key=list(vocab.SCHEDULE).index)
    payment = _sample(rng, ["medicaid", "medicare", "private", "self_pay", "sliding_scale",
                            "military", "va", "state", "payment_assistance"], 0.5, 9)
    payment = payment or ["self_pay"]
    if "adolescents" in ages and ages == ["adolescents"] and "medicare" in payment:
        payment.remove("medicare")
    insurers = (sorted(rng.sample(list(vocab.INSURERS), rng.randint(2, 6)))
                if "private" in payment else [])
    languages = ["English", *sorted(set(_sample(rng, list(LANG_EXTRA), 0.12, 3)))]
    lo = rng.choice([6, 9, 9, 9, 10, 12])
    hi = min(lo + rng.choice([0, 3, 3, 6, 9]), 19)
    openings = rng.choices([None, 0, rng.randint(1, 12)], weights=[25, 25, 50])[0]
    updated = (timezone.now() - timedelta(days=rng.randint(0, 45))
               if openings is not None else None)
    name = f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_KIND[focus])}"
    listing = Listing(
        source=Listing.Source.IMPORT, source_key=f"{source_name}:{i:06d}",
        name=f"{name} of {point.city.title()}" if rng.random() < 0.4 else name,
        organization_name=name if rng.random() < 0.5 else f"{rng.choice(NAME_FIRST)} Health",
        description="Synthetic listing for demonstration and benchmarks.",
        address1=f"{rng.randint(10, 9999)} {rng.choice(STREETS)}",
        city=point.city.title(), state=point.state, zip_code=point.zip_code,
        latitude=round(point.latitude + rng.uniform(-0.02, 0.02), 6),
        longitude=round(point.longitude + rng.uniform(-0.02, 0.02), 6),
        # 555-01xx numbers are reserved for fiction; the area code is the ZIP's own.
        phone=f"({point.area_code or rng.randint(201, 989)}) 555-{rng.randint(100, 199):04d}",
        website=f"https://{name.lower().replace(' ', '')}{i}.example.org",
        focus=focus, levels_of_care=levels, populations=ages + special, therapies=therapies,
        medication_management=rng.random() < (0.75 if focus != "su" else 0.5), moud=moud,
        holistic=_sample(rng, list(vocab.HOLISTIC), 0.3, 4), schedule_options=schedule,
        hours_per_week_min=lo, hours_per_week_max=hi,
        typical_length_weeks=rng.choice([6, 8, 8, 10, 12, 12, 16]),
        telehealth=rng.random() < 0.45, languages=languages, payment=payment,
        insurers=insurers,
        accreditation=_sample(rng, ["carf", "joint_commission", "state_licensed"], 0.4, 2)
        or ["state_licensed"],
        openings=openings, openings_updated_at=updated,
    )
    listing.tags = build_tags(listing)
    return listing


def generate_listings(*, n: int, seed: int, center: ZipPoint | None = None,
                      radius_miles: float | None = None, source_name: str = "synthetic",
                      progress: Callable[[str], None] | None = None) -> list[Listing]:
    """n unsaved listings; deterministic for the same arguments."""
    rng = random.Random(seed)
    points = sorted(all_zip_points(), key=lambda p: p.zip_code)
    if center is not None and radius_miles is not None:
        points = [p for p in points if haversine_miles(center.latitude, center.longitude,
                                                       p.latitude, p.longitude) <= radius_miles]
    # The 50 states and DC (the package also lists territories and military ZIPs).
    points = [p for p in points if p.state not in ("AA", "AE", "AP", "AS", "GU", "MP", "PR",
                                                   "VI", "FM", "MH", "PW")]
    out: list[Listing] = []
    for i in range(n):
        out.append(_listing(rng, i, rng.choice(points), source_name))
        if progress is not None and (i + 1) % 5000 == 0:
            progress(f"generated {i + 1:,} of {n:,} listings")
    return out
