"""Public finder pages (no login) and the staff page for contact requests and imports."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.accounts.permissions import Perm, has_perm
from openiop.care.levels import PLAIN_LANGUAGE
from openiop.core.forms import submit

from . import services, vocab
from .compare import MAX_COMPARE, compare_rows, level_explanations, openings_text
from .forms import ContactForm, ImportForm, SearchForm
from .geo import zip_point
from .models import ContactRequest, ImportRun, Listing
from .selectors import listing_search, listings_for_compare, openings_for
from .trust import program_outcomes

DEFAULT_RADIUS = "25"
LEVEL_HELP = [(vocab.LEVELS[k], PLAIN_LANGUAGE[k]) for k in ("OP", "IOP", "PHP", "RES", "INP")]



def _local_back(request: HttpRequest) -> str:
    """The `back` link only when it is a path on this site (never another host, a
    scheme-relative //host or a javascript: URL): an attacker's link must not borrow the
    finder's "Back to results" button."""
    back = request.GET.get("back", "")
    if (back.startswith("/") and not back.startswith(("//", "/\\"))
            and url_has_allowed_host_and_scheme(back, allowed_hosts=None)
            and not any(ord(c) < 32 for c in back)):
        return back
    return ""

def _query_string(form: SearchForm) -> str:
    """The search's own parameters, without the page, for pagination links."""
    pairs = [(k, v) for k in form.data for v in form.data.getlist(k)
             if k not in ("page", "csrfmiddlewaretoken") and v != ""]
    return urlencode(pairs)


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """The finder: a form, and results when a ZIP code is given (works without JS)."""
    context: dict[str, Any] = {"level_help": LEVEL_HELP, "result": None,
                               "max_compare": MAX_COMPARE}
    if "zip" not in request.GET:
        form = SearchForm(initial={"radius": 25, "sort": "distance"})
        context["form"] = form
        return render(request, "finder/search.html", context)
    data = request.GET.copy()
    data.setdefault("radius", DEFAULT_RADIUS)
    form = SearchForm(data)
    context["form"] = form
    status = 200
    if form.is_valid():
        result = listing_search(form.criteria(), page=form.cleaned_data.get("page") or 1)
        context.update(result=result, point=form.point, query_string=_query_string(form),
                       levels_in_results=sorted(
                           {lv for h in result.hits for lv in h.listing.levels_of_care},
                           key=list(vocab.LEVELS).index))
    else:
        # A request the person can fix: say what is wrong (4xx for plain requests; htmx
        # swaps only 2xx, so the partial comes back 200 with the same messages).
        status = 200 if request.htmx else 400
    template = "finder/_results.html" if request.htmx else "finder/search.html"
    return render(request, template, context, status=status)


@require_GET
def listing_detail(request: HttpRequest, code: str) -> HttpResponse:
    listing = get_object_or_404(Listing.objects.select_related("program__organization"),
                                code=code, is_active=True)
    return _render_detail(request, listing, ContactForm(), status=200)


def _render_detail(request: HttpRequest, listing: Listing, form: ContactForm, *,
                   status: int) -> HttpResponse:
    opening = openings_for([listing])[listing.pk]
    context = {
        "listing": listing,
        "openings_text": openings_text(*opening),
        "outcomes": program_outcomes(listing.program) if listing.program_id else None,
        "levels": level_explanations([listing]),
        "form": form,
        "consent_text": (services.CONSENT_TEXT.format(
            program=listing.program.name, organization=listing.program.organization.name)
            if listing.program_id else ""),
        "labels": {
            "levels": vocab.labels(vocab.LEVELS, listing.levels_of_care),
            "populations": vocab.labels(vocab.POPULATIONS, listing.populations),
            "therapies": vocab.labels(vocab.THERAPIES, listing.therapies),
            "moud": vocab.labels(vocab.MOUD, listing.moud),
            "holistic": vocab.labels(vocab.HOLISTIC, listing.holistic),
            "schedule": vocab.labels(vocab.SCHEDULE, listing.schedule_options),
            "payment": vocab.labels(vocab.PAYMENT, listing.payment),
            "accreditation": vocab.labels(vocab.ACCREDITATION, listing.accreditation),
        },
        "focus": vocab.FOCUS.get(listing.focus, ""),
        "back": _local_back(request),
    }
    return render(request, "finder/detail.html", context, status=status)


@require_POST
def contact(request: HttpRequest, code: str) -> HttpResponse:
    """Send a contact request: rate limit, honeypot, validation, delivery."""
    listing = get_object_or_404(Listing.objects.select_related("program__organization"),
                                code=code, is_active=True)
    if listing.program_id is None:
        raise Http404
    form = ContactForm(request.POST)
    try:
        services.contact_rate_check(request=request)
    except services.RateLimited as exc:
        form.is_valid()
        form.add_error(None, exc.message)
        return _render_detail(request, listing, form, status=429)
    if form.is_spam:
        # Answer a bot exactly as a person, but keep nothing.
        return redirect("finder:contact_sent", code=listing.code)
    saved = submit(form, lambda data: services.contact_request_create(
        listing=listing, data=data, request=request))
    if saved is not None:
        request.session["finder_sent"] = {"method": saved.result.contact_method,
                                          "listing": str(listing.code)}
        return redirect("finder:contact_sent", code=listing.code)
    return _render_detail(request, listing, form, status=400)


@require_GET
def contact_sent(request: HttpRequest, code: str) -> HttpResponse:
    listing = get_object_or_404(Listing.objects.select_related("program__organization"),
                                code=code, program__isnull=False)
    sent = request.session.get("finder_sent") or {}
    method = sent.get("method") if sent.get("listing") == str(listing.code) else None
    days = listing.program.typed_settings.contact_response_business_days
    return render(request, "finder/contact_sent.html", {
        "listing": listing, "method": dict(ContactRequest.ContactMethod.choices).get(method),
        "days": days,
    })


@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    codes = [c for c in request.GET.getlist("id") if c]
    origin = zip_point(request.GET.get("zip", ""))
    error = ""
    bad = [c for c in codes if not _is_uuid(c)]
    if bad:
        error = ("id: each program to compare is named by its code from the results page; "
                 f"{len(bad)} of these {'is' if len(bad) == 1 else 'are'} not a program code. "
                 "Go back to the results and tick 'Compare' again.")
    elif len(set(codes)) > MAX_COMPARE:
        error = (f"You picked {len(set(codes))} programs. Compare at most {MAX_COMPARE} at a "
                 f"time: go back and untick some.")
    listings = [] if error else listings_for_compare(list(dict.fromkeys(codes)))
    if not error and len(listings) < 2:
        error = "Pick two or three programs to compare (tick 'Compare' on the results)."
    if error:
        return render(request, "finder/compare.html", {"error": error, "listings": []},
                      status=400)
    openings = openings_for(listings)
    rows = compare_rows(listings, openings, origin=origin)
    return render(request, "finder/compare.html", {
        "listings": listings, "rows": rows, "levels": level_explanations(listings),
        "origin": origin, "back": _local_back(request),
    })


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@require_GET
def checklist(request: HttpRequest) -> HttpResponse:
    return render(request, "finder/checklist.html", {"level_help": LEVEL_HELP})


# ------------------------------------------------------------------------------ staff side

def _finder_staff(perm: Perm) -> Callable:
    """Clinic staff with `perm`. /find/ is exempt from the MFA middleware because the
    public pages are, so the staff pages under it check the second factor themselves."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if settings.OPENIOP_REQUIRE_MFA and not user.is_verified():
                return redirect(f"{reverse('accounts:mfa')}?next={request.get_full_path()}")
            if getattr(user, "staff_profile", None) is None or not has_perm(user, perm):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


@_finder_staff(Perm.INTAKE_MANAGE)
@require_GET
def manage(request: HttpRequest) -> HttpResponse:
    """Contact requests for this organization's programs, and recent imports."""
    org_id = request.user.staff_organization_id
    requests_qs = (ContactRequest.objects.filter(program__organization_id=org_id)
                   .select_related("program")[:100])
    return render(request, "finder/manage.html", {
        "contact_requests": requests_qs,
        "runs": ImportRun.objects.filter(actor__staff_profile__organization_id=org_id)[:10],
        "listings": Listing.objects.filter(program__organization_id=org_id),
        "can_import": has_perm(request.user, Perm.PROGRAM_MANAGE),
        "import_form": ImportForm(),
    })


@_finder_staff(Perm.PROGRAM_MANAGE)
@require_POST
def publish(request: HttpRequest) -> HttpResponse:
    listings = services.listing_publish_organization(
        organization_id=request.user.staff_organization_id)
    messages.success(request, f"{len(listings)} program listing(s) refreshed from program and "
                              f"track data.")
    return redirect("finder:manage")


@_finder_staff(Perm.PROGRAM_MANAGE)
@require_http_methods(["GET", "POST"])
def import_listings(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        max_bytes, _rows = services.import_limits()
        upload = request.FILES.get("file")
        if upload is not None and upload.size > max_bytes:
            # Refuse before reading the file into memory.
            form.is_valid()
            form.add_error("file", f"The file is {upload.size / 1_048_576:.1f} MB; the limit is "
                                   f"{max_bytes / 1_048_576:.1f} MB per import.")
            return render(request, "finder/import.html", {"form": form}, status=413)
        saved = submit(form, lambda data: services.listing_import_start(
            actor=request.user, source_name=data["source_name"], filename=upload.name,
            raw=upload.read(), request=request))
        if saved is not None:
            # The import runs in the background; the job page shows its progress in rows and
            # links to the report when done.
            return redirect("jobs:detail", code=saved.result.code)
    return render(request, "finder/import.html", {"form": form}, status=status)


@_finder_staff(Perm.PROGRAM_MANAGE)
@require_GET
def import_run(request: HttpRequest, code: str) -> HttpResponse:
    # Another organization's run is a 404 like anything else not theirs.
    run = get_object_or_404(ImportRun, code=code, actor__staff_profile__organization_id=(
        request.user.staff_organization_id))
    if request.GET.get("format") == "csv":
        import io

        # defusedcsv: a cell starting with = + - @ | % is written as text, so a rejected
        # row cannot become a spreadsheet formula (OWASP "CSV Injection").
        from defusedcsv import csv

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["line", "source_id", "message"])
        for e in run.errors:
            writer.writerow([e["line"], e["source_id"], e["message"]])
        response = HttpResponse(out.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="import-errors-{run.code}.csv"'
        return response
    return render(request, "finder/import_run.html", {"run": run})
