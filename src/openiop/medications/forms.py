"""Input forms for the medication pages (the services re-check every rule)."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from . import rules
from .models import (
    Allergy,
    DoseUnit,
    DrugScreen,
    Frequency,
    MedicationChange,
    MedicationOrder,
    Reconciliation,
    Route,
    SideEffectReport,
    UseDisorder,
)

DATE = forms.DateInput(attrs={"type": "date"})


def _confirm_field() -> forms.BooleanField:
    return forms.BooleanField(
        required=False, label="I confirm this dose",
        help_text="Needed when the dose is ten times (or a tenth of) the previous dose.")


def _override_field() -> forms.CharField:
    return forms.CharField(
        required=False, max_length=500, label="Reason for a dose above the daily maximum",
        help_text="Prescribers only: documents an override of the label's daily maximum.")


class OrderForm(forms.Form):
    catalog_key = forms.ChoiceField(label="Medication", required=False)
    name = forms.CharField(
        label="Or type its name", required=False, max_length=200,
        help_text="Generic or brand name. A name found in the catalog is checked like a "
                  "catalog choice; any other is saved as not checked for interactions.")
    source = forms.ChoiceField(choices=MedicationOrder.Source.choices,
                               initial=MedicationOrder.Source.CLINIC)
    outside_prescriber = forms.CharField(required=False, max_length=200,
                                         help_text="For an outside prescription: who prescribes it.")
    dose = forms.DecimalField(max_digits=10, decimal_places=3)
    unit = forms.ChoiceField(choices=DoseUnit.choices, initial=DoseUnit.MG)
    route = forms.ChoiceField(choices=Route.choices, initial=Route.ORAL)
    frequency = forms.ChoiceField(choices=Frequency.choices, initial=Frequency.DAILY)
    max_doses_per_day = forms.IntegerField(
        required=False, min_value=1, max_value=24, label="Maximum doses per day (as needed)",
        help_text="Required for an as-needed order: the daily total is checked at this many.")
    quantity = forms.IntegerField(required=False, min_value=0)
    refills = forms.IntegerField(required=False, min_value=0, initial=0,
                                 help_text="Schedule II: none; III-IV: at most 5.")
    start_date = forms.DateField(widget=DATE, initial=timezone.localdate)
    stop_date = forms.DateField(widget=DATE, required=False)
    indication = forms.CharField(required=False, max_length=200)
    contains_alcohol = forms.BooleanField(required=False,
                                          label="Preparation contains alcohol")
    confirm_dose_change = _confirm_field()
    dose_override_reason = _override_field()

    def __init__(self, *args: object, can_prescribe: bool = True, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["catalog_key"].choices = [("", "— choose —"), *rules.catalog_choices()]
        if not can_prescribe:
            self.fields["source"].choices = [(MedicationOrder.Source.OUTSIDE,
                                              MedicationOrder.Source.OUTSIDE.label)]
            self.fields["source"].initial = MedicationOrder.Source.OUTSIDE


class AdjustForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    dose = forms.DecimalField(max_digits=10, decimal_places=3, label="New dose")
    unit = forms.ChoiceField(choices=DoseUnit.choices)
    frequency = forms.ChoiceField(choices=Frequency.choices)
    route = forms.ChoiceField(choices=Route.choices)
    max_doses_per_day = forms.IntegerField(
        required=False, min_value=1, max_value=24, label="Maximum doses per day (as needed)")
    refills = forms.IntegerField(required=False, min_value=0,
                                 help_text="Leave empty to keep. Schedule II: none; III-IV: at "
                                           "most 5.")
    confirm_dose_change = _confirm_field()
    dose_override_reason = _override_field()
    reason = forms.ChoiceField(
        choices=[("", "— choose —")] + [(r.value, r.label) for r in MedicationChange.ADJUST_REASONS])
    effective_date = forms.DateField(widget=DATE, initial=timezone.localdate)
    note = forms.CharField(required=False, max_length=500,
                           widget=forms.Textarea(attrs={"rows": 2}))


class StopForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.ChoiceField(choices=[("", "— choose —")] + [
        (r.value, r.label) for r in (*MedicationChange.ADJUST_REASONS,
                                     MedicationChange.Reason.COMPLETED,
                                     MedicationChange.Reason.NO_LONGER_TAKING)])
    stop_date = forms.DateField(widget=DATE, initial=timezone.localdate)
    note = forms.CharField(required=False, max_length=500)


class ReconcileForm(forms.Form):
    point = forms.ChoiceField(choices=Reconciliation.Point.choices, label="Transition")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AdherenceForm(forms.Form):
    order = forms.ChoiceField(required=False, label="Medication")
    doses_missed = forms.IntegerField(min_value=0, max_value=60,
                                      label="Doses missed in the past 7 days")
    checked_on = forms.DateField(widget=DATE, initial=timezone.localdate, label="Date")
    note = forms.CharField(required=False, max_length=500)

    def __init__(self, *args: object, orders: list | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["order"].choices = [("", "All medications")] + [
            (str(o.code), o.name) for o in orders or []]


class SideEffectForm(forms.Form):
    order = forms.ChoiceField(required=False, label="Medication")
    effect = forms.CharField(max_length=200, label="Side effect")
    severity = forms.ChoiceField(choices=SideEffectReport.Severity.choices)
    onset_on = forms.DateField(widget=DATE, initial=timezone.localdate, label="Onset")
    action = forms.CharField(required=False, max_length=300, label="Action taken")

    def __init__(self, *args: object, orders: list | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["order"].choices = [("", "Not sure which")] + [
            (str(o.code), o.name) for o in orders or []]


class ScreenForm(forms.Form):
    collected_on = forms.DateField(widget=DATE, initial=timezone.localdate)
    specimen = forms.ChoiceField(choices=DrugScreen.Specimen.choices)
    note = forms.CharField(required=False, max_length=500)

    RESULT_CHOICES = [("", "Not tested"), ("neg", "Negative"), ("pos", "Positive")]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for key, label in rules.screen_substances().items():
            self.fields[f"sub_{key}"] = forms.ChoiceField(
                choices=self.RESULT_CHOICES, required=False, label=label)

    def results(self) -> dict[str, bool]:
        return {name[4:]: value == "pos" for name, value in self.cleaned_data.items()
                if name.startswith("sub_") and value}

    def substance_fields(self) -> list:
        return [self[name] for name in self.fields if name.startswith("sub_")]


class NaloxoneForm(forms.Form):
    on_hand = forms.BooleanField(required=False, label="Has naloxone on hand")
    kit_dispensed = forms.BooleanField(required=False, label="Kit dispensed today")
    note = forms.CharField(required=False, max_length=300)


class ReviewForm(forms.Form):
    reviewed_on = forms.DateField(widget=DATE, initial=timezone.localdate, label="Reviewed on")
    note = forms.CharField(required=False, max_length=500)


class UseDisorderForm(forms.Form):
    substance = forms.ChoiceField(choices=UseDisorder.Substance.choices)
    noted_on = forms.DateField(widget=DATE, initial=timezone.localdate)
    note = forms.CharField(required=False, max_length=300)


class UseDisorderResolveForm(forms.Form):
    resolved_on = forms.DateField(widget=DATE, initial=timezone.localdate, label="Resolved on")


class AdministrationForm(forms.Form):
    """One dose of one order; body site, lot number and lot expiry only for injections."""

    order = forms.CharField(widget=forms.HiddenInput)
    administered_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        label="Time given")
    dose = forms.DecimalField(max_digits=10, decimal_places=3)
    unit = forms.ChoiceField(choices=DoseUnit.choices)
    site = forms.CharField(max_length=100, label="Body site", help_text="e.g. left gluteal")
    lot = forms.CharField(max_length=60, label="Lot number")
    expires_on = forms.DateField(widget=DATE, required=False, label="Lot expiration")
    note = forms.CharField(required=False, max_length=300)

    def __init__(self, *args: object, injection: bool = True, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if not injection:
            for name in ("site", "lot", "expires_on"):
                del self.fields[name]


class AllergyForm(forms.Form):
    catalog_key = forms.ChoiceField(label="Substance from the catalog", required=False)
    substance = forms.CharField(label="Or another substance", required=False, max_length=200)
    drug_class = forms.ChoiceField(label="Applies to the whole class", required=False)
    kind = forms.ChoiceField(choices=Allergy.Kind.choices)
    reaction = forms.CharField(max_length=300, help_text="e.g. hives, anaphylaxis, nausea")
    severity = forms.ChoiceField(choices=Allergy.Severity.choices)
    noted_on = forms.DateField(widget=DATE, initial=timezone.localdate, label="Noted on")

    def __init__(self, *args: object, classes: dict[str, str] | None = None,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["catalog_key"].choices = [("", "— choose —"), *rules.catalog_choices()]
        self.fields["drug_class"].choices = [("", "No, this substance only"),
                                             *(classes or {}).items()]


class AllergyStatusForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=Allergy.Status.choices)


class NoKnownAllergiesForm(forms.Form):
    stated_on = forms.DateField(widget=DATE, initial=timezone.localdate, label="Stated on")
    note = forms.CharField(required=False, max_length=300)


class MyAdherenceForm(forms.Form):
    doses_missed = forms.IntegerField(min_value=0, max_value=60,
                                      label="How many doses did you miss in the past 7 days?")
    note = forms.CharField(required=False, max_length=500, label="Anything you want your team to know",
                           widget=forms.Textarea(attrs={"rows": 3}))
