"""Read queries of the finder: search, live openings, compare.

Search plan (see `listing_search`):
1. the ZIP's centroid and the radius give a bounding box; the database returns only the
   rows inside it, on the (latitude, longitude) index, with every filter applied as a
   LIKE on `tags` of those rows;
2. Python computes the exact haversine distance of those few (id, lat, lon, openings)
   tuples, drops the corners of the box, adds live openings of programs on this
   instance, sorts and cuts the page;
3. one query loads the page's listings.
`listing_search_full_scan` is the naive plan (every row, every filter in Python): the
benchmark's baseline and the tests' oracle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce
from operator import or_

from django.db.models import Q
from django.utils import timezone

from openiop.care.selectors import tracks_with_openings

from . import vocab
from .geo import bounding_box, haversine_miles
from .models import Listing, tag_slug, tag_values

PAGE_SIZE = 10
MIN_RADIUS, MAX_RADIUS = 5, 500  # miles; a product choice (docs/finder-locator.md)
SORTS = ("distance", "openings")


@dataclass(frozen=True)
class SearchCriteria:
    latitude: float
    longitude: float
    radius: int = 25
    focus: str = ""  # "" any, mh, su, both
    age_group: str = ""
    populations: tuple[str, ...] = ()  # all required
    levels: tuple[str, ...] = ()  # any of
    schedule: tuple[str, ...] = ()  # any of
    therapies: tuple[str, ...] = ()  # all required
    medication_management: bool = False
    moud: str = ""  # "" none asked, "any" or a medication
    holistic: tuple[str, ...] = ()  # any of
    payment: tuple[str, ...] = ()  # any of
    insurer: str = ""
    language: str = ""
    telehealth: bool = False
    openings_only: bool = False
    sort: str = "distance"

    def required_groups(self) -> list[tuple[str, list[str]]]:
        """(group label, tags of which a listing needs at least one) for every filter set."""
        groups: list[tuple[str, list[str]]] = []
        if self.focus == "mh":
            groups.append(("focus", ["focus:mh", "focus:co"]))
        elif self.focus == "su":
            groups.append(("focus", ["focus:su", "focus:co"]))
        elif self.focus == "both":
            groups.append(("focus", ["focus:co"]))
        if self.age_group:
            groups.append(("age", [f"pop:{self.age_group}"]))
        groups.extend(("population", [f"pop:{p}"]) for p in self.populations)
        if self.levels:
            groups.append(("level", [f"lvl:{v}" for v in self.levels]))
        if self.schedule:
            groups.append(("schedule", [f"sch:{v}" for v in self.schedule]))
        groups.extend(("therapy", [f"ther:{t}"]) for t in self.therapies)
        if self.medication_management:
            groups.append(("medication", ["med:yes"]))
        if self.moud:
            groups.append(("moud", [f"moud:{self.moud}"]))
        if self.holistic:
            groups.append(("holistic", [f"hol:{v}" for v in self.holistic]))
        if self.payment:
            groups.append(("payment", [f"pay:{v}" for v in self.payment]))
        if self.insurer:
            groups.append(("insurer", [f"ins:{tag_slug(self.insurer)}"]))
        if self.language:
            groups.append(("language", [f"lang:{tag_slug(self.language)}"]))
        if self.telehealth:
            groups.append(("telehealth", ["tele:yes"]))
        return groups


@dataclass
class Hit:
    listing: Listing
    distance: float
    openings: int | None
    openings_live: bool
    why: list[str] = field(default_factory=list)


@dataclass
class SearchResult:
    criteria: SearchCriteria
    total: int
    page_number: int
    hits: list[Hit]

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def live_openings(program_ids: Iterable[int]) -> dict[int, int]:
    """Open seats per program right now: track capacity minus active enrollments."""
    ids = list(program_ids)
    if not ids:
        return {}
    out: dict[int, int] = dict.fromkeys(ids, 0)
    for track in tracks_with_openings().filter(program_id__in=ids).only(
        "pk", "program_id", "capacity"
    ):
        out[track.program_id] += max(track.capacity - track.enrolled, 0)  # type: ignore[attr-defined]  # annotated
    return out


def _filter_q(criteria: SearchCriteria) -> Q:
    q = Q(is_active=True)
    for _label, tags in criteria.required_groups():
        q &= reduce(or_, (Q(tags__contains=f"|{t}|") for t in tags))
    if criteria.openings_only:
        # Local programs' openings are live, so they are checked after the query.
        q &= Q(openings__gt=0) | Q(program__isnull=False)
    return q


def _box_q(criteria: SearchCriteria) -> Q:
    box = bounding_box(criteria.latitude, criteria.longitude, criteria.radius)
    lon_q = reduce(or_, (Q(longitude__gte=lo, longitude__lte=hi) for lo, hi in box.lon_ranges))
    return Q(latitude__gte=box.min_lat, latitude__lte=box.max_lat) & lon_q


def _rank(criteria: SearchCriteria,
          rows: list[tuple[int, float, float, int | None, int | None]]
          ) -> tuple[list[tuple[int, float, int | None]], dict[int, int]]:
    """Exact distances, live openings, the radius cut and the sort order."""
    live = live_openings({r[4] for r in rows if r[4] is not None})
    ranked: list[tuple[int, float, int | None]] = []
    for pk, lat, lon, openings, program_id in rows:
        miles = haversine_miles(criteria.latitude, criteria.longitude, lat, lon)
        if miles > criteria.radius:
            continue
        if program_id is not None:
            openings = live.get(program_id, 0)
        if criteria.openings_only and not openings:
            continue
        ranked.append((pk, miles, openings))
    if criteria.sort == "openings":
        ranked.sort(key=lambda r: (-(r[2] if r[2] is not None else -1), r[1], r[0]))
    else:
        ranked.sort(key=lambda r: (r[1], r[0]))
    return ranked, live


def _page(criteria: SearchCriteria, ranked: list[tuple[int, float, int | None]],
          live: dict[int, int], page: int) -> SearchResult:
    pages = max(1, -(-len(ranked) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    window = ranked[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    by_id = Listing.objects.in_bulk([r[0] for r in window])
    hits = []
    for pk, miles, openings in window:
        listing = by_id[pk]
        hits.append(Hit(listing=listing, distance=miles, openings=openings,
                        openings_live=listing.program_id in live,
                        why=why_this_matches(listing, criteria, miles, openings)))
    return SearchResult(criteria=criteria, total=len(ranked), page_number=page, hits=hits)


def listing_search(criteria: SearchCriteria, *, page: int = 1) -> SearchResult:
    """Listings within the radius that meet every filter, sorted, one page of them.

    Queries: 1 (box + filters) + 1 (live openings, only when local programs are in the
    box) + 1 (the page).
    """
    rows: list[tuple[int, float, float, int | None, int | None]] = list(
        Listing.objects.filter(_box_q(criteria) & _filter_q(criteria))
        .values_list("pk", "latitude", "longitude", "openings", "program_id")
    )
    ranked, live = _rank(criteria, rows)
    return _page(criteria, ranked, live, page)


def listing_search_full_scan(criteria: SearchCriteria, *, page: int = 1) -> SearchResult:
    """The naive plan: load every active listing and test everything in Python."""
    groups = criteria.required_groups()
    rows = []
    for listing in Listing.objects.filter(is_active=True):
        tags = set(tag_values(listing))
        if all(any(t in tags for t in options) for _label, options in groups):
            if criteria.openings_only and not (listing.openings or listing.program_id):
                continue
            rows.append((listing.pk, listing.latitude, listing.longitude, listing.openings,
                         listing.program_id))
    ranked, live = _rank(criteria, rows)
    return _page(criteria, ranked, live, page)


def why_this_matches(listing: Listing, criteria: SearchCriteria, miles: float,
                     openings: int | None) -> list[str]:
    """Plain words for each filter the listing met, in the order of the form."""
    out = [f"{miles:.1f} miles from your ZIP code (within {criteria.radius})"]
    focus_words = {"mh": "Treats mental health", "su": "Treats substance use",
                   "both": "Treats mental health and substance use together"}
    if criteria.focus:
        out.append(focus_words[criteria.focus]
                   + (" (co-occurring program)" if listing.focus == "co"
                      and criteria.focus != "both" else ""))
    if criteria.age_group:
        out.append(f"Serves {vocab.POPULATIONS[criteria.age_group].lower()}")
    out.extend(f"Serves {vocab.POPULATIONS[p].lower()}" if p != "lgbtq"
               else "Serves LGBTQ+ people" for p in criteria.populations)
    def met(values: tuple[str, ...], have: list[str], names: dict[str, str]) -> list[str]:
        return [names[v] for v in values if v in have]
    if criteria.levels:
        out.append("Offers " + ", ".join(met(criteria.levels, listing.levels_of_care,
                                              vocab.LEVELS)).lower())
    if criteria.schedule:
        out.append("Hours: " + ", ".join(met(criteria.schedule, listing.schedule_options,
                                              vocab.SCHEDULE)).lower())
    out.extend(vocab.THERAPIES[t] for t in criteria.therapies)
    if criteria.medication_management:
        out.append("Medication management")
    if criteria.moud == "any":
        out.append("Medications for opioid use disorder: "
                   + ", ".join(vocab.labels(vocab.MOUD, listing.moud)).lower())
    elif criteria.moud:
        out.append(f"Offers {vocab.MOUD[criteria.moud].lower()}")
    if criteria.holistic:
        out.append(", ".join(met(criteria.holistic, listing.holistic, vocab.HOLISTIC)))
    if criteria.payment:
        out.append("Takes " + ", ".join(met(criteria.payment, listing.payment, vocab.PAYMENT)))
    if criteria.insurer:
        out.append(f"Accepts {criteria.insurer}")
    if criteria.language:
        out.append(f"Services in {criteria.language}")
    if criteria.telehealth:
        out.append("Offers telehealth")
    if criteria.openings_only and openings:
        out.append(f"{openings} opening{'s' if openings != 1 else ''} now")
    return out


def listings_for_compare(codes: list[str]) -> list[Listing]:
    """The listings of the given public codes, in the order given (missing ones dropped)."""
    by_code = {str(x.code): x for x in Listing.objects.filter(code__in=codes, is_active=True)}
    return [by_code[c] for c in codes if c in by_code]


def openings_for(listings: list[Listing]) -> dict[int, tuple[int | None, datetime | None, bool]]:
    """Per listing pk: (openings, as of, live?). Live for programs on this instance."""
    live = live_openings([x.program_id for x in listings if x.program_id])
    now = timezone.now()
    return {
        x.pk: ((live.get(x.program_id, 0), now, True) if x.program_id
               else (x.openings, x.openings_updated_at, False))
        for x in listings
    }
