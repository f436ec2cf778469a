"""The finder's write path: publish programs, import CSV listings, accept contact requests.

Every function is keyword-only, validates before writing, writes in one transaction and
records an audit event in the same transaction (DEVELOPING.md, write path).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.care.models import Program
from openiop.core.exceptions import DomainError
from openiop.core.http import client_ip
from openiop.scheduling.models import HOLISTIC_KINDS, Session

from . import importer
from .geo import zip_point
from .models import ContactRequest, ImportRun, Listing, build_tags
from .selectors import live_openings

POPULATION_CODES = {"adult": ["adults"], "adolescent": ["adolescents"]}
# Track.kind -> schedule option (same words; kept explicit so either side can change).
TRACK_SCHEDULE = {"morning": "morning", "daytime": "daytime", "afternoon": "afternoon",
                  "evening": "evening", "weekend": "weekend"}
GROUP_SESSION_KINDS = {"group", "psychoeducation", "skills"}

CONSENT_TEXT = (
    "I agree that {program} at {organization} may store what I wrote in this form and use "
    "it to contact me about treatment. This is not an emergency service: if I am in "
    "crisis I will call or text 988 or call 911. Sending this form does not admit me to a "
    "program or create an account."
)


class RateLimited(DomainError):
    """Too many requests from one place in the current window."""


# ---------------------------------------------------------------------------- publishing

def listing_publish_program(*, program: Program, actor: object | None = None,
                            request: HttpRequest | None = None) -> Listing:
    """Create or refresh the listing of a program on this instance from its own data.

    Derived facts (name, address, level, focus, population, schedule, hours, therapies,
    openings) are overwritten; directory-only facts that staff edit on the listing
    (languages, payment, insurers, accreditation, MOUD, telehealth) are kept.
    """
    site = program.site
    org = program.organization
    lat, lon = site.latitude, site.longitude
    if lat is None or lon is None:
        point = zip_point(site.zip_code)
        if point is None:
            raise ValidationError({"zip_code": f"The site's ZIP code {site.zip_code} is unknown, "
                                                "so the program cannot be placed on the map."})
        lat, lon = point.latitude, point.longitude
    tracks = list(program.tracks.filter(is_active=True))
    kinds = set(
        Session.objects.filter(program=program).values_list("kind", flat=True).distinct()
    )
    therapies = [t for t, present in (
        ("individual", "individual" in kinds), ("group", bool(kinds & GROUP_SESSION_KINDS)),
        ("family", "family" in kinds)) if present]
    if not kinds:
        # No sessions yet: an IOP is group plus individual counseling by definition
        # (HCPCS H0015 descriptor, CMS HCPCS Level II code set; docs/clinical-rules.md).
        therapies = ["individual", "group"]
    hours = sorted(round(float(t.hours_per_week)) for t in tracks)
    derived: dict[str, Any] = {
        "source": Listing.Source.LOCAL,
        "name": program.name,
        "organization_name": org.name,
        "address1": site.address1, "address2": site.address2, "city": site.city,
        "state": site.state, "zip_code": site.zip_code, "latitude": lat, "longitude": lon,
        "phone": site.phone or org.phone, "website": org.website,
        "focus": program.focus,
        "levels_of_care": [program.level_of_care],
        "populations": POPULATION_CODES.get(program.population, []),
        "schedule_options": sorted({TRACK_SCHEDULE[t.kind] for t in tracks
                                    if t.kind in TRACK_SCHEDULE},
                                   key=list(TRACK_SCHEDULE).index),
        "hours_per_week_min": hours[0] if hours else None,
        "hours_per_week_max": hours[-1] if hours else None,
        "typical_length_weeks": program.typical_length_weeks,
        "therapies": therapies,
        "holistic": sorted(kinds & HOLISTIC_KINDS),
        "medication_management": "medication" in kinds
        or program.episodes.filter(prescriber__isnull=False).exists(),
        "openings": live_openings([program.pk]).get(program.pk, 0),
        "openings_updated_at": timezone.now(),
        "is_active": program.is_published and program.is_active,
    }
    with transaction.atomic():
        found = Listing.objects.select_for_update().filter(program=program).first()
        created = found is None
        listing = found if found is not None else Listing(
            program=program, description=program.description, languages=["English"])
        for key, value in derived.items():
            setattr(listing, key, value)
        listing.full_clean(exclude=["program", "website"])
        listing.save()
        audit_record(actor=actor, action=Action.CREATE if created else Action.CHANGE,
                     object_type=ObjectType.FINDER_LISTING, object_id=listing.code,
                     organization=org, request=request)
    return listing


def listing_publish_organization(*, organization_id: int | None = None) -> list[Listing]:
    """Publish every published program (of one organization, or all)."""
    programs = Program.objects.select_related("site", "organization").filter(is_published=True)
    if organization_id is not None:
        programs = programs.filter(organization_id=organization_id)
    return [listing_publish_program(program=p) for p in programs]


# --------------------------------------------------------------------------------- import

def import_limits() -> tuple[int, int]:
    """(max bytes, max rows) of one CSV import; settings FINDER_IMPORT_MAX_BYTES/_ROWS."""
    return (getattr(settings, "FINDER_IMPORT_MAX_BYTES", 8 * 1024 * 1024),
            getattr(settings, "FINDER_IMPORT_MAX_ROWS", 25_000))


@dataclass
class ImportReport:
    run: ImportRun

    @property
    def ok(self) -> bool:
        return self.run.rejected == 0


def _check_import(source_name: str, raw: bytes) -> str:
    source_name = (source_name or "").strip()
    if not source_name or len(source_name) > 60 or ":" in source_name:
        raise ValidationError({"source_name": "Name the source in 1-60 characters without ':' "
                                              "(e.g. findtreatment-2026)."})
    max_bytes, _rows = import_limits()
    if len(raw) > max_bytes:
        raise ValidationError({"file": f"The file is {len(raw) / 1_048_576:.1f} MB; the limit "
                                       f"is {max_bytes / 1_048_576:.1f} MB per import."})
    return source_name


def listing_import_start(*, actor: User, source_name: str, filename: str, raw: bytes,
                         request: HttpRequest | None = None) -> Any:
    """Queue an import (a background job: large files take a minute); return the Job.

    The file travels in the job's payload (in the database), so any worker can run it.
    """
    from openiop.jobs.services import start_job

    require_perm(actor, Perm.PROGRAM_MANAGE)
    source_name = _check_import(source_name, raw)
    return start_job(actor=actor, kind="finder_import",
                     label=f"Import listings from {filename[:120]}",
                     handler="openiop.finder.services.listing_import_job",
                     params={"source_name": source_name, "filename": filename[:255],
                             "actor_id": actor.pk},
                     payload=raw, request=request,
                     organization=getattr(getattr(actor, "staff_profile", None), "organization", None))


def listing_import_job(*, job: Any, progress: Any, source_name: str, filename: str,
                       actor_id: int) -> dict[str, str]:
    """The job: import the uploaded file, reporting rows as it goes. Importing the same file
    again changes nothing (rows are upserted by source and id), so a retry is safe."""
    from django.urls import reverse

    from openiop.accounts.models import User
    from openiop.jobs.models import Job

    run = listing_import(actor=User.objects.get(pk=actor_id), source_name=source_name,
                         filename=filename, raw=bytes(job.payload or b""),
                         progress=lambda message: progress(phase="Importing listings",
                                                           message=message))
    Job.objects.filter(pk=job.pk).update(payload=None)
    return {"run": str(run.code), "url": reverse("finder:import_run", kwargs={"code": run.code}),
            "summary": f"{run.rows} rows: {run.created} created, {run.updated} updated, "
                       f"{run.unchanged} unchanged, {run.rejected} rejected"}


def listing_import(*, actor: object | None, source_name: str, filename: str, raw: bytes,
                   request: HttpRequest | None = None, check_perm: bool = True,
                   progress: Any = None) -> ImportRun:
    """Import external listings from CSV bytes; return the run with its error report.

    Refuses the whole file (ValidationError on `file`) when it is too large or unreadable.
    Otherwise every valid row is written and every invalid row is reported with its line
    number; rows are upserted on `source_name:source_id`, so importing the same file again
    changes nothing. All writes happen in one transaction: nothing is half-imported.
    """
    if check_perm:
        require_perm(actor, Perm.PROGRAM_MANAGE)
    source_name = _check_import(source_name, raw)
    _max_bytes, max_rows = import_limits()
    approx = max(1, raw.count(b"\n"))
    try:
        _header, rows = importer.read_rows(raw, max_rows=max_rows)
        results = []
        for line, row in rows:
            results.append(importer.validate_row(line, row))
            if progress is not None and len(results) % 500 == 0:
                progress(f"{len(results)} of about {approx} rows checked")
    except importer.ImportFileError as exc:
        raise ValidationError({"file": str(exc)}) from exc
    except Exception as exc:  # csv.Error: a malformed file as a whole
        raise ValidationError({"file": f"The file could not be read as CSV ({exc})."}) from exc

    seen: dict[str, int] = {}
    valid: dict[str, tuple[dict[str, Any], str]] = {}
    errors: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    for res in results:
        for message in res.warnings:
            warnings.append({"line": res.line, "source_id": res.source_id, "message": message})
        if res.data is not None and res.source_id in seen:
            res.errors.append(f"source_id: {res.source_id!r} already appears on line "
                              f"{seen[res.source_id]}.")
            res.data = None
        if res.data is None:
            errors.extend({"line": res.line, "source_id": res.source_id, "message": m}
                          for m in res.errors)
            continue
        seen[res.source_id] = res.line
        key = f"{source_name}:{res.source_id}"
        data = res.data
        hashed = importer.content_hash(data)
        valid[key] = (data, hashed)

    now = timezone.now()
    created = updated = unchanged = 0
    with transaction.atomic():
        existing: dict[str, Listing] = {}
        keys = list(valid)
        for i in range(0, len(keys), 900):
            for known in Listing.objects.filter(source_key__in=keys[i:i + 900]):
                if known.source_key:
                    existing[known.source_key] = known
        to_create: list[Listing] = []
        to_update: list[Listing] = []
        for key, (data, hashed) in valid.items():
            listing = existing.get(key)
            if listing is not None and listing.content_hash == hashed:
                unchanged += 1
                continue
            stamp = data["openings_updated_at"] or (now if data["openings"] is not None else None)
            values = data | {"openings_updated_at": stamp}
            if listing is None:
                listing = Listing(source=Listing.Source.IMPORT, source_key=key,
                                  content_hash=hashed, **values)
                listing.tags = build_tags(listing)
                to_create.append(listing)
            else:
                for field_name, value in values.items():
                    setattr(listing, field_name, value)
                listing.content_hash = hashed
                listing.is_active = True
                listing.updated_at = now
                listing.tags = build_tags(listing)
                to_update.append(listing)
        Listing.objects.bulk_create(to_create, batch_size=1000)
        created = len(to_create)
        if to_update:
            fields = [*next(iter(valid.values()))[0].keys(), "content_hash", "is_active",
                      "updated_at", "tags"]
            Listing.objects.bulk_update(to_update, fields, batch_size=500)
        updated = len(to_update)
        run = ImportRun.objects.create(
            source_name=source_name, filename=filename[:255],
            actor=actor if isinstance(actor, User) and actor.is_authenticated else None,
            rows=len(results), created=created, updated=updated, unchanged=unchanged,
            rejected=len({e["line"] for e in errors}), errors=errors[:5000],
            warnings=warnings[:5000],
        )
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.FINDER_IMPORT_RUN,
                     object_id=run.code, request=request)
    if progress is not None:
        progress(f"{run.rows} rows: {created} created, {updated} updated, {unchanged} "
                 f"unchanged, {run.rejected} rejected")
    return run


# ------------------------------------------------------------------------ contact request

def _client_key(request: HttpRequest | None) -> str:
    """A hash of the client address: enough to rate-limit, not stored anywhere."""
    ip = client_ip(request) or "unknown"  # X-Forwarded-For only from trusted proxies
    return hashlib.sha256(f"{settings.SECRET_KEY}:{ip}".encode()).hexdigest()[:32]


def contact_rate_check(*, request: HttpRequest | None) -> None:
    """Count one attempt; raise RateLimited past FINDER_CONTACT_LIMIT per window.

    Uses the Django cache (Redis when REDIS_URL is set, so all web workers share it).
    """
    limit, window = getattr(settings, "FINDER_CONTACT_LIMIT", (5, 3600))
    key = f"finder:contact:{_client_key(request)}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    if count > limit:
        minutes = max(window // 60, 1)
        raise RateLimited(
            f"Too many contact requests from this connection: at most {limit} in {minutes} "
            f"minutes. Please call the program directly, or try again later.",
            field="__all__",
        )


def contact_request_create(*, listing: Listing, data: dict[str, Any],
                           request: HttpRequest | None = None) -> ContactRequest:
    """Store a contact request with its consent text and deliver it to the intake queue.

    `data`: name, requester, contact_method, phone, email, best_time, need, consent (bool).
    """
    program = listing.program
    if program is None or not listing.is_active:
        raise ValidationError({"listing": "This program takes requests by phone or on its "
                                          "own website, not through this form."})
    if not data.get("consent"):
        raise ValidationError({"consent": "Please agree to the consent statement so the "
                                          "program may contact you."})
    method = data.get("contact_method")
    if method not in ContactRequest.ContactMethod.values:
        raise ValidationError({"contact_method": "Choose how the program should contact you."})
    if method in ("phone", "text") and not data.get("phone"):
        raise ValidationError({"phone": "Give a phone number, or choose email."})
    if method == "email" and not data.get("email"):
        raise ValidationError({"email": "Give an email address, or choose phone."})
    consent = CONSENT_TEXT.format(program=program.name, organization=program.organization.name)
    with transaction.atomic():
        contact = ContactRequest.objects.create(
            listing=listing, program=program, name=data["name"].strip(),
            requester=data.get("requester") or ContactRequest.Requester.SELF,
            contact_method=method, phone=data.get("phone", ""), email=data.get("email", ""),
            best_time=data.get("best_time", ""), need=data["need"].strip(),
            consent_text=consent, consented_at=timezone.now(),
        )
        audit_record(actor=None, action=Action.CREATE, object_type=ObjectType.FINDER_CONTACT_REQUEST,
                     object_id=contact.code, organization=program.organization,
                     request=request)
        referral_code = deliver_to_referral_queue(contact=contact, request=request)
        if referral_code:
            contact.status = ContactRequest.Status.DELIVERED
            contact.referral_code = referral_code
            contact.save(update_fields=["status", "referral_code"])
    return contact


def deliver_to_referral_queue(*, contact: ContactRequest,
                              request: HttpRequest | None = None) -> str:
    """Put the request in the program's referral queue (intake); return the referral code.

    Runs inside the caller's transaction: if the queue refuses the request, nothing is
    stored in either place and the person sees the queue's message.
    """
    from openiop.intake.models import Referral
    from openiop.intake.services import referral_create

    requester = ContactRequest.Requester(contact.requester).label
    details = [contact.need.strip(), "",
               f"Sent from the public program finder ({requester.lower()})."]
    details.append(f"Prefers: {contact.get_contact_method_display().lower()}"
                   + (f", {contact.best_time}" if contact.best_time else "") + ".")
    try:
        referral = referral_create(
            source=Referral.Source.FINDER, name=contact.name, reason="\n".join(details),
            organization=contact.program.organization, program=contact.program,
            phone=contact.phone, email=contact.email, consent_text=contact.consent_text,
            referrer_name="" if contact.requester == "self" else requester,
            actor=None, request=request,
        )
    except ValidationError as exc:
        # Name the finder form's fields (the queue calls the request's text "reason").
        renamed = {("need" if k == "reason" else k): v
                   for k, v in getattr(exc, "message_dict", {"__all__": exc.messages}).items()}
        raise ValidationError(renamed) from exc
    return str(referral.code)
