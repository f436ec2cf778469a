"""Input forms for the billing pages (the services re-check every rule)."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.care.levels import LevelOfCare

from .models import Authorization, Coverage, DiagnosisRank, Payer, Relationship

DATE = forms.DateInput(attrs={"type": "date"})


class DiagnosisForm(forms.Form):
    icd_code = forms.CharField(label="ICD-10-CM code", max_length=8,
                               help_text="Search below by code or words, e.g. F33.1 or "
                                         "“recurrent depression”.")
    rank = forms.ChoiceField(choices=DiagnosisRank.choices, initial=DiagnosisRank.SECONDARY)
    onset_on = forms.DateField(label="Onset", widget=DATE, required=False)


class DiagnosisChangeForm(forms.Form):
    """Make principal, resolve or mark entered in error: one named URL each."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    resolved_on = forms.DateField(label="Resolved on", widget=DATE, required=False)


class CoverageForm(forms.Form):
    payer = forms.ModelChoiceField(queryset=Payer.objects.none())
    order = forms.TypedChoiceField(choices=Coverage.Order.choices, coerce=int,
                                   initial=Coverage.Order.PRIMARY)
    member_id = forms.CharField(max_length=80, required=False, label="Member id")
    group_number = forms.CharField(max_length=50, required=False)
    relationship = forms.ChoiceField(choices=Relationship.choices, initial=Relationship.SELF,
                                     label="Participant is the subscriber's")
    subscriber_first_name = forms.CharField(max_length=100, required=False)
    subscriber_last_name = forms.CharField(max_length=100, required=False)
    subscriber_date_of_birth = forms.DateField(widget=DATE, required=False)
    effective_on = forms.DateField(widget=DATE)
    ends_on = forms.DateField(widget=DATE, required=False)
    copay_per_day = forms.DecimalField(max_digits=8, decimal_places=2, required=False,
                                       min_value=0, label="Participant's share per day ($)")

    def __init__(self, *args: object, organization_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = Payer.objects.filter(  # type: ignore[attr-defined]
            organization_id=organization_id, is_active=True)


class AuthorizationForm(forms.Form):
    level_of_care = forms.ChoiceField(choices=LevelOfCare.choices, initial=LevelOfCare.IOP)
    unit = forms.ChoiceField(choices=Authorization.Unit.choices)
    units_approved = forms.IntegerField(min_value=1, max_value=366)
    starts_on = forms.DateField(widget=DATE)
    ends_on = forms.DateField(widget=DATE)
    review_on = forms.DateField(widget=DATE, required=False, label="Concurrent review date")
    reference_number = forms.CharField(max_length=50)


class FinancialForm(forms.Form):
    household_size = forms.IntegerField(min_value=1, max_value=20)
    annual_income = forms.DecimalField(max_digits=10, decimal_places=2, min_value=0,
                                       label="Household income per year ($)")
    verified_on = forms.DateField(widget=DATE, required=False)


class PeriodForm(forms.Form):
    start = forms.DateField(widget=DATE)
    end = forms.DateField(widget=DATE)


class BatchForm(forms.Form):
    claim_type = forms.ChoiceField(choices=[("I", "Institutional (837I)"),
                                            ("P", "Professional (837P)")])


class RemittanceForm(forms.Form):
    file = forms.FileField(label="835 file")


class CertificationForm(forms.Form):
    """A signed Medicare IOP certification or recertification, as logged by the office."""

    certified_by = forms.TypedChoiceField(label="Physician who signed", coerce=int)
    certified_on = forms.DateField(label="Date signed", widget=DATE)

    def __init__(self, *args: Any, physicians: list | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.physicians = {u.pk: u for u in physicians or []}
        field = self.fields["certified_by"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "Choose…")] + [
            (u.pk, str(u)) for u in physicians or []]

    def clean_certified_by(self) -> object:
        return self.physicians.get(self.cleaned_data["certified_by"])
