"""Forms: input parsing and field-level messages; the rules live in models and services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.care.levels import LevelOfCare
from openiop.core.forms import TIME_ERRORS

from .models import AdministrativeSex, Availability, Participant, RelatedPerson
from .selectors import EpisodeFilter
from .services import PARTICIPANT_FIELDS, duplicate_mrn_message, mrn_in_use


class DateInput(forms.DateInput):
    input_type = "date"


class TimeInput(forms.TimeInput):
    input_type = "time"


class ParticipantForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Participant
        fields = PARTICIPANT_FIELDS
        widgets = {"date_of_birth": DateInput()}
        help_texts = {"state": "Two letters, e.g. OH."}

    def __init__(self, *args: Any, organization_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization_id = organization_id or self.instance.organization_id
        # Not asked yet is "unknown", the AdministrativeGender code for it.
        self.fields["administrative_sex"].required = False

    def clean_administrative_sex(self) -> str:
        return self.cleaned_data.get("administrative_sex") or AdministrativeSex.UNKNOWN

    def clean_mrn(self) -> str:
        # Checked here too so that every problem shows at once; the service checks again.
        mrn = self.cleaned_data["mrn"].strip()
        if self.organization_id and mrn_in_use(
            organization_id=self.organization_id, mrn=mrn, exclude_pk=self.instance.pk
        ):
            raise ValidationError(duplicate_mrn_message(mrn))
        return mrn

    def clean_date_of_birth(self) -> object:
        dob = self.cleaned_data["date_of_birth"]
        if dob and dob > timezone.localdate():
            raise ValidationError("Date of birth cannot be in the future.")
        return dob

    def clean_state(self) -> str:
        state = (self.cleaned_data.get("state") or "").strip().upper()
        if state and (len(state) != 2 or not state.isalpha()):
            raise ValidationError("Use the two-letter state code, e.g. OH.")
        return state


class AvailabilityForm(forms.ModelForm):
    class Meta:
        model = Availability
        fields = ("kind", "weekday", "start_time", "end_time", "note")
        widgets = {"start_time": TimeInput(), "end_time": TimeInput()}
        error_messages = {"start_time": TIME_ERRORS, "end_time": TIME_ERRORS}

    def clean(self) -> dict[str, object]:
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", "End time must be after the start time.")
        return data

    def _post_clean(self) -> None:  # the service runs model validation once, in one place
        pass


class RelatedPersonForm(forms.ModelForm):
    class Meta:
        model = RelatedPerson
        fields = ("name", "relationship", "phone", "email", "may_contact", "is_emergency_contact")

    def _post_clean(self) -> None:
        pass


class ParticipantFilterForm(forms.Form):
    q = forms.CharField(label="Search name or MRN", required=False, max_length=100)
    program = forms.ChoiceField(label="Program", required=False)
    level = forms.ChoiceField(
        label="Level of care", required=False,
        choices=[("", "Any level"), *LevelOfCare.choices],
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Everyone"), *EpisodeFilter.choices],
    )

    def __init__(self, *args: object, programs: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [("", "Any program"), *programs]
