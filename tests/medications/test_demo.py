"""The demo clinic's medication data: realistic and consistent with the rules."""

from __future__ import annotations

import io
from datetime import date

from openiop.demo.generator import build_demo
from openiop.medications import rules, selectors
from openiop.medications.models import (
    Administration,
    DrugScreen,
    DrugScreenResult,
    MedicationChange,
    MedicationOrder,
    NaloxoneCheck,
    Reconciliation,
    UseDisorder,
)
from openiop.organizations.models import Organization

TODAY = date(2026, 11, 18)


def test_demo_has_moud_participants_with_screens_naloxone_and_histories(db):
    out = io.StringIO()
    build_demo(seed=7, participants=60, today=TODAY, out=out)
    assert "drug screens" in out.getvalue()
    moud = MedicationOrder.objects.filter(catalog_key__in=[
        "buprenorphine_naloxone", "naltrexone_xr", "methadone"])
    assert moud.count() >= 3
    oud = UseDisorder.objects.filter(substance="opioid")
    assert oud.count() >= 3
    assert NaloxoneCheck.objects.filter(participant__in=oud.values("participant")).exists()
    assert DrugScreen.objects.count() > 20
    # Every stored interpretation agrees with the rules for what was prescribed that day.
    for r in DrugScreenResult.objects.select_related("screen")[:300]:
        keys = MedicationOrder.objects.filter(
            participant_id=r.screen.participant_id, start_date__lte=r.screen.collected_on
        ).exclude(stop_date__lt=r.screen.collected_on).values_list("catalog_key", flat=True)
        assert (r.interpretation, r.caveat) == rules.interpret_result(
            substance=r.substance, positive=r.positive, catalog_keys=keys)
    # Each order's current dose is its last change; adjustments carry a listed reason.
    for o in MedicationOrder.objects.prefetch_related("changes")[:200]:
        changes = list(o.changes.all())
        assert changes[0].kind == "start"
        assert [c for c in changes if c.kind != "stop"][-1].dose == o.dose
    assert MedicationChange.objects.filter(kind="adjust").exclude(
        reason__in=MedicationChange.ADJUST_REASONS).count() == 0
    assert MedicationChange.objects.filter(kind="adjust").count() > 10
    assert Reconciliation.objects.filter(point="admission").count() > 10
    assert Administration.objects.filter(order__catalog_key="naltrexone_xr").exists() == \
        MedicationOrder.objects.filter(catalog_key="naltrexone_xr").exists()
    org = Organization.objects.get()
    assert selectors.overdue_reviews(org.pk, TODAY)
    assert selectors.unexpected_screens(org.pk, TODAY)
