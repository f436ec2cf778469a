"""Finder demo data: the demo clinic's own listings and a directory around Columbus, OH."""

from __future__ import annotations

from openiop.demo.generator import DemoContext

from .generate import generate_listings
from .geo import zip_point
from .models import Listing
from .services import listing_publish_program

DEMO_DIRECTORY_SIZE = 80
DEMO_RADIUS_MILES = 60

# Directory facts the clinic's staff would enter on their listings.
CLINIC_FACTS = {
    "adult_mh": {"languages": ["English", "Spanish"], "payment": ["medicaid", "medicare",
                 "private", "sliding_scale"], "insurers": ["Aetna", "Anthem", "CareSource",
                 "Medical Mutual"], "accreditation": ["carf", "state_licensed"],
                 "telehealth": True},
    "adult_su": {"languages": ["English", "Spanish"], "payment": ["medicaid", "private",
                 "self_pay", "sliding_scale"], "insurers": ["Anthem", "CareSource", "Molina"],
                 "accreditation": ["carf", "state_licensed"],
                 "moud": ["buprenorphine", "naltrexone"], "telehealth": False},
    "teen": {"languages": ["English"], "payment": ["medicaid", "private"],
             "insurers": ["Aetna", "CareSource", "UnitedHealthcare"],
             "accreditation": ["joint_commission"], "telehealth": True},
}


def build(ctx: DemoContext) -> None:
    for key, program in ctx.programs.items():
        listing = listing_publish_program(program=program)
        for field, value in CLINIC_FACTS.get(key, {}).items():
            setattr(listing, field, value)
        listing.save()
    ctx.progress(f"{len(ctx.programs)} clinic listings published with live openings")
    center = zip_point("43215")
    listings = generate_listings(n=DEMO_DIRECTORY_SIZE, seed=ctx.seed, center=center,
                                 radius_miles=DEMO_RADIUS_MILES, source_name="demo-directory")
    Listing.objects.bulk_create(listings, batch_size=500)
    ctx.progress(f"{len(listings)} directory listings within {DEMO_RADIUS_MILES} miles of "
                 f"Columbus, OH 43215")
