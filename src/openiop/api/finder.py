"""Public program finder API: search listings near a ZIP code (no login).

Bad input answers 422 (or 400) with `detail` naming the field and the rule, never 500.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, QueryDict
from ninja import Field, Query, Router, Schema

from openiop.finder.forms import SearchForm
from openiop.finder.models import Listing
from openiop.finder.selectors import PAGE_SIZE, listing_search, openings_for

router = Router(tags=["finder"], auth=None)


class ListingOut(Schema):
    code: UUID
    name: str
    organization_name: str
    address: str
    zip_code: str
    latitude: float
    longitude: float
    phone: str
    website: str
    focus: str
    levels_of_care: list[str]
    populations: list[str]
    therapies: list[str]
    medication_management: bool
    moud: list[str]
    holistic: list[str]
    schedule_options: list[str]
    hours_per_week_min: int | None
    hours_per_week_max: int | None
    typical_length_weeks: int | None
    telehealth: bool
    languages: list[str]
    payment: list[str]
    insurers: list[str]
    accreditation: list[str]
    openings: int | None
    openings_as_of: datetime | None
    openings_live: bool
    on_this_instance: bool


class HitOut(ListingOut):
    distance_miles: float
    why: list[str]


class SearchOut(Schema):
    zip: str
    radius: int
    total: int
    page: int
    pages: int
    page_size: int
    results: list[HitOut]


def _listing_out(listing: Listing, openings: tuple) -> dict:
    count, as_of, live = openings
    data = {name: getattr(listing, name) for name in ListingOut.model_fields
            if hasattr(listing, name)}
    data.update(address=listing.address_line, openings=count, openings_as_of=as_of,
                openings_live=live, on_this_instance=listing.program_id is not None)
    return data


class SearchQuery(Schema):
    zip: str = Field(..., description="5-digit ZIP code")
    radius: int = Field(25, description="Miles, 5-500")
    focus: str = Field("", description="mh, su or both")
    age_group: str = ""
    schedule: list[str] = Field(default_factory=list)
    family: bool = False
    medication_management: bool = False
    moud: str = ""
    holistic: list[str] = Field(default_factory=list)
    payment: list[str] = Field(default_factory=list)
    insurer: str = ""
    language: str = ""
    populations: list[str] = Field(default_factory=list)
    level: list[str] = Field(default_factory=list)
    telehealth: bool = False
    openings: bool = False
    sort: str = "distance"
    page: int = Field(1, ge=1, le=10_000)


@router.get("/search", response=SearchOut, auth=None)
def search(request: HttpRequest, q: Query[SearchQuery]) -> dict:
    """The same search as /find/, as JSON; every filter combinable."""
    data = QueryDict(mutable=True)
    for key in ("zip", "focus", "age_group", "moud", "insurer", "language", "sort"):
        data[key] = getattr(q, key)
    data["radius"] = str(q.radius)
    for key in ("schedule", "holistic", "payment", "populations", "level"):
        data.setlist(key, getattr(q, key))
    for key in ("family", "medication_management", "telehealth", "openings"):
        if getattr(q, key):
            data[key] = "on"
    form = SearchForm(data)
    if not form.is_valid():
        raise ValidationError({k: " ".join(str(e) for e in v) for k, v in form.errors.items()})
    result = listing_search(form.criteria(), page=q.page)
    openings_map = openings_for([h.listing for h in result.hits])
    return {
        "zip": form.cleaned_data["zip"], "radius": result.criteria.radius,
        "total": result.total, "page": result.page_number, "pages": result.num_pages,
        "page_size": PAGE_SIZE,
        "results": [
            _listing_out(h.listing, (h.openings, openings_map[h.listing.pk][1],
                                     h.openings_live))
            | {"distance_miles": round(h.distance, 2), "why": h.why}
            for h in result.hits
        ],
    }


@router.get("/listings/{code}", response=ListingOut, auth=None)
def listing(request: HttpRequest, code: UUID) -> dict:
    item = Listing.objects.filter(code=code, is_active=True).first()
    if item is None:
        raise Http404
    return _listing_out(item, openings_for([item])[item.pk])
