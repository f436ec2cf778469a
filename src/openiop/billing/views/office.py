"""The billing office: overview, charges, claims and the scrubber's holds, 837 batches,
835 remittances, denials and A/R aging. Billing never sees note text here: lines show the
service, its code and whether the note is signed, nothing of what was written."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.decorators import staff_required
from openiop.core.exceptions import DomainError
from openiop.core.forms import submit

from .. import codes, forms, reports, rules, selectors, services
from ..models import Charge, ClaimBatch, ClaimStatus, Remittance
from ..services.scrub import HOLD_LABELS

if TYPE_CHECKING:
    from uuid import UUID

PAGE_SIZE = 50


def _org(request: HttpRequest) -> Any:
    return request.user.staff_profile.organization


def _can_manage(request: HttpRequest) -> bool:
    return has_perm(request.user, Perm.BILLING_MANAGE)


@staff_required(Perm.BILLING_VIEW)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    org_id = request.user.staff_organization_id
    return render(request, "billing/index.html", {
        "counts": reports.claim_counts(org_id),
        "open_charges": reports.charge_totals(org_id),
        "warnings": selectors.authorization_warnings(organization_id=org_id),
    })


@staff_required(Perm.BILLING_VIEW)
@require_http_methods(["GET", "POST"])
def charges(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    yesterday = timezone.localdate() - timedelta(days=1)
    form = forms.PeriodForm(initial={"start": yesterday.replace(day=1), "end": yesterday})
    result = None
    status_code = 200
    if request.method == "POST" and _can_manage(request):
        form = forms.PeriodForm(request.POST)
        saved = submit(form, lambda data: services.capture_charges(
            actor=request.user, organization=org, start=data["start"], end=data["end"],
            request=request))
        if saved is None:
            status_code = 400
        else:
            result = saved.result
            messages.success(request, f"{result.created} new charge lines "
                                      f"({result.already} were already captured).")
    status = request.GET.get("status", "")
    page = Paginator(reports.charges_list(org.pk, status if status in Charge.Status.values
                                          else ""), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/charges.html", {
        "form": form, "result": result, "page": page, "status": status,
        "statuses": Charge.Status.choices, "query_string": f"status={status}" if status else "",
        "can_manage": _can_manage(request),
        "skipped": (result.skipped[:50] if result else []),
    }, status=status_code)


@staff_required(Perm.BILLING_VIEW)
@require_http_methods(["GET", "POST"])
def claims(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    yesterday = timezone.localdate() - timedelta(days=1)
    form = forms.PeriodForm(initial={"start": yesterday.replace(day=1), "end": yesterday},
                            prefix="build")
    status_code = 200
    if request.method == "POST" and _can_manage(request):
        form = forms.PeriodForm(request.POST, prefix="build")
        built = submit(form, lambda data: services.build_claims(
            actor=request.user, organization=org, period_start=data["start"],
            period_end=data["end"], request=request))
        if built is None:
            status_code = 400
        else:
            messages.success(request, f"{len(built.result)} claims built and scrubbed.")
            return redirect("billing:claims")
    status = request.GET.get("status", "")
    qs = reports.claims_list(org.pk, status if status in ClaimStatus.values else "")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/claims.html", {
        "form": form, "page": page, "status": status, "statuses": ClaimStatus.choices,
        "counts": reports.claim_counts(org.pk), "can_manage": _can_manage(request),
        "status_query": f"status={status}" if status else "",
        "hold_labels": HOLD_LABELS,
    }, status=status_code)


def _claim(request: HttpRequest, claim_code: UUID | str) -> Any:
    from ..models import Claim

    return get_object_or_404(
        Claim.objects.select_related("participant", "coverage__payer", "batch"),
        organization_id=request.user.staff_organization_id, code=claim_code)


def _claim_change(request: HttpRequest, claim_code: UUID | str, change: Any) -> HttpResponse:
    """Scrub again or void (billing managers only; others only return to the claim)."""
    claim = _claim(request, claim_code)
    if _can_manage(request):
        try:
            change(actor=request.user, claim=claim, request=request)
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect("billing:claim_detail", claim_code=claim.code)


@staff_required(Perm.BILLING_VIEW)
@require_POST
def claim_rescrub(request: HttpRequest, claim_code: UUID) -> HttpResponse:
    return _claim_change(request, claim_code, services.rescrub)


@staff_required(Perm.BILLING_VIEW)
@require_POST
def claim_void(request: HttpRequest, claim_code: UUID) -> HttpResponse:
    return _claim_change(request, claim_code, services.claim_void)


@staff_required(Perm.BILLING_VIEW)
@require_GET
def claim_detail(request: HttpRequest, claim_code: UUID) -> HttpResponse:
    claim = _claim(request, claim_code)
    audit_record(actor=request.user, action=Action.VIEW, object_type=ObjectType.CLAIM, object_id=claim.code,
                 participant=claim.participant, request=request)
    payments = list(claim.payments.select_related("remittance").prefetch_related("adjustments"))
    adjustments = [
        {"group": f"{a.group_code}: {codes.group(a.group_code)}",
         "reason": f"{a.reason_code}: {codes.carc(a.reason_code)}",
         "remarks": [f"{r}: {codes.rarc(r)}" for r in a.remark_codes], "amount": a.amount,
         "line": a.claim_line_id}
        for p in payments for a in p.adjustments.all()]
    lines = list(claim.lines.select_related("charge"))
    tiers: list[tuple[object, int, str]] = []
    if claim.claim_type == "I" and claim.coverage.payer.rule_set == "medicare_iop":
        per_day: dict[object, int] = {}
        for ln in lines:
            per_day[ln.service_date] = per_day.get(ln.service_date, 0) + 1
        tiers = [(day, n, rules.medicare_day_tier(n)) for day, n in sorted(per_day.items())]
    return render(request, "billing/claim_detail.html", {
        "claim": claim, "lines": lines, "tiers": tiers,
        "payments": payments, "adjustments": adjustments, "hold_labels": HOLD_LABELS,
        "can_manage": _can_manage(request),
        "status_words": {p.pk: codes.claim_status(p.status_code) for p in payments},
    })


@staff_required(Perm.BILLING_VIEW)
@require_http_methods(["GET", "POST"])
def batches(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    form = forms.BatchForm()
    status_code = 200
    if request.method == "POST" and _can_manage(request):
        form = forms.BatchForm(request.POST)
        saved = submit(form, lambda data: services.batch_create(
            actor=request.user, organization=org, claim_type=data["claim_type"],
            request=request))
        if saved is not None:
            batch = saved.result
            messages.success(request, f"Batch {batch.control_number} written with "
                                      f"{batch.claim_count} claims.")
            return redirect("billing:batches")
        status_code = 400
    counts = reports.claim_counts(org.pk)
    recent = Paginator(ClaimBatch.objects.filter(organization=org).select_related("created_by"),
                       PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/batches.html", {
        "form": form, "counts": counts, "page": recent, "can_manage": _can_manage(request),
        "ready": reports.claims_list(org.pk, ClaimStatus.READY)[:PAGE_SIZE],
        "held": reports.claims_list(org.pk, ClaimStatus.HELD)[:PAGE_SIZE],
        "hold_labels": HOLD_LABELS,
    }, status=status_code)


@staff_required(Perm.BILLING_VIEW)
@require_GET
def batch_download(request: HttpRequest, batch_code: UUID) -> HttpResponse:
    batch = get_object_or_404(ClaimBatch, organization_id=request.user.staff_organization_id,
                              code=batch_code)
    audit_record(actor=request.user, action=Action.EXPORT, object_type=ObjectType.CLAIM_BATCH,
                 object_id=batch.code, organization=batch.organization, request=request)
    response = HttpResponse(batch.content, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="837{batch.claim_type}-' \
                                      f'{batch.control_number:09d}.txt"'
    return response


@staff_required(Perm.BILLING_VIEW)
@require_http_methods(["GET", "POST"])
def remittances(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    form = forms.RemittanceForm()
    status_code = 200
    if request.method == "POST" and _can_manage(request):
        form = forms.RemittanceForm(request.POST, request.FILES)
        saved = submit(form, lambda data: services.remittance_post(
            actor=request.user, organization=org, request=request,
            text=data["file"].read(5_000_001).decode("utf-8", errors="replace")))
        if saved is not None:
            remittance = saved.result
            messages.success(request, f"Payment {remittance.trace_number} posted.")
            return redirect("billing:remittance_detail", remittance_code=remittance.code)
        status_code = 400
    page = Paginator(Remittance.objects.filter(organization=org), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "billing/remittances.html", {
        "form": form, "page": page, "can_manage": _can_manage(request)}, status=status_code)


@staff_required(Perm.BILLING_VIEW)
@require_GET
def remittance_detail(request: HttpRequest, remittance_code: UUID) -> HttpResponse:
    remittance = get_object_or_404(Remittance, organization_id=request.user.staff_organization_id,
                                   code=remittance_code)
    # It names the participants it paid: a read of their records, audited as the API's is.
    audit_record(actor=request.user, action=Action.VIEW, object_type=ObjectType.REMITTANCE,
                 object_id=remittance.code, organization=remittance.organization, request=request)
    payments = list(remittance.payments.select_related("claim__participant")
                    .prefetch_related("adjustments"))
    rows = [{"payment": p, "status": codes.claim_status(p.status_code),
             "adjustments": [f"{a.group_code}-{a.reason_code} {codes.carc(a.reason_code)}: "
                             f"${a.amount}" for a in p.adjustments.all()]} for p in payments]
    return render(request, "billing/remittance_detail.html",
                  {"remittance": remittance, "rows": rows})


@staff_required(Perm.BILLING_VIEW)
@require_GET
def denials(request: HttpRequest) -> HttpResponse:
    return render(request, "billing/denials.html",
                  {"rows": reports.denials(request.user.staff_organization_id)})


@staff_required(Perm.BILLING_VIEW)
@require_GET
def aging(request: HttpRequest) -> HttpResponse:
    rows, total = reports.ar_aging(request.user.staff_organization_id)
    return render(request, "billing/aging.html", {
        "rows": rows, "total": total, "buckets": [b[0] for b in reports.AGING_BUCKETS],
        "spec": reports.aging_chart_spec(total)})
