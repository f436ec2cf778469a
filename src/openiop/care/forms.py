"""Forms for level changes, the authorized level and discharge."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from .levels import LevelOfCare
from .models import Discharge, Track

DATE = forms.DateInput(attrs={"type": "date"})


def safety_decision_field() -> forms.CharField:
    """The documented decision asked for while an emergent or urgent safety task is open
    (intake.decisions rule 2); the service requires it then, and ignores it otherwise."""
    return forms.CharField(
        label="Decision despite the open safety task", required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What was done about the risk, who agreed, and why this goes ahead now.")


class LevelChangeForm(forms.Form):
    to_level = forms.ChoiceField(label="New level of care", choices=LevelOfCare.choices)
    effective_on = forms.DateField(label="Effective on", widget=DATE)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    criteria_met = forms.CharField(
        label="Criteria met (one per line)", required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: PHQ-9 below 10 for two weeks; safety plan in place.")
    to_track = forms.ModelChoiceField(queryset=Track.objects.none(), required=False,
                                      label="Move to track", empty_label="Stay in the same track")
    version = forms.IntegerField(widget=forms.HiddenInput)
    safety_decision = safety_decision_field()

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "level_%s")  # unique ids: several forms share a page
        super().__init__(*args, **kwargs)
        self.fields["to_track"].queryset = Track.objects.filter(
            program__organization_id=organization_id, is_active=True).select_related("program")
        self.fields["to_track"].label_from_instance = lambda t: f"{t.program.name}: {t.name}"
        if not self.is_bound:
            self.initial.setdefault("effective_on", timezone.localdate())

    def criteria(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["criteria_met"].splitlines()
                if line.strip()]


class AuthorizedLevelForm(forms.Form):
    authorized_level_of_care = forms.ChoiceField(
        label="Payer-authorized level", required=False,
        choices=[("", "None on file"), *list(LevelOfCare.choices)])
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "auth_%s")
        super().__init__(*args, **kwargs)


class DischargeForm(forms.Form):
    discharged_on = forms.DateField(widget=DATE)
    reason = forms.ChoiceField(choices=Discharge.Reason.choices)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    next_provider = forms.CharField(label="Next provider", required=False, max_length=200)
    aftercare_appointments = forms.CharField(
        label="Aftercare appointments", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    medications = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    supports = forms.CharField(label="Supports (groups, sponsor, family, crisis plan)",
                               required=False, widget=forms.Textarea(attrs={"rows": 2}))
    safety_decision = safety_decision_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "discharge_%s")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("discharged_on", timezone.localdate())


class FromWaitlistForm(forms.Form):
    safety_decision = safety_decision_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "waitlist_%s")
        super().__init__(*args, **kwargs)


class ConfirmLevelForm(forms.Form):
    """A licensed clinician confirms a proposed level of care, or decides another one."""

    decided_level = forms.ChoiceField(
        label="Level of care decided", required=False,
        choices=[("", "Confirm the proposed level"), *list(LevelOfCare.choices)])
    override_reason = forms.CharField(
        label="Reason for a level other than the recommendation", required=False,
        widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "confirm_%s")
        super().__init__(*args, **kwargs)


BOOL_CHOICES = [("", "Default"), ("yes", "Yes"), ("no", "No")]
ACKNOWLEDGE_CHOICES = [("", "Default"), ("same_day", "By the program's closing time"),
                       ("minutes", "Within the minutes set above")]


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if value is None:
        return "none"
    return str(value)


class ProgramSettingsForm(forms.Form):
    """Every program setting (care.program_settings); an empty field keeps the default."""

    def __init__(self, *args: Any, stored: dict[str, Any] | None = None, **kwargs: Any) -> None:
        from .program_settings import DEFAULTS, _leaves, leaf_fields

        super().__init__(*args, **kwargs)
        defaults = _leaves(DEFAULTS)
        own = _leaves(stored) if isinstance(stored, dict) else {}
        self.paths: dict[str, str] = {}
        for path, info in leaf_fields():
            name = path.replace(".", "__")
            self.paths[name] = path
            help_text = f"Default: {_shown(defaults.get(path))}. Leave empty for the default."
            kind = str(info.annotation)
            field: forms.Field
            if info.annotation is bool:
                field = forms.ChoiceField(choices=BOOL_CHOICES, required=False)
            elif path.endswith(".acknowledge"):
                field = forms.ChoiceField(choices=ACKNOWLEDGE_CHOICES, required=False)
            elif "time" in kind:
                field = forms.TimeField(required=False, widget=forms.TimeInput(
                    attrs={"type": "time"}, format="%H:%M"))
            elif "tuple" in kind:
                field = forms.CharField(required=False, max_length=200,
                                        help_text="Separate values with commas. ")
            else:
                field = forms.IntegerField(required=False)
            field.label = info.title or path
            field.help_text = (field.help_text or "") + help_text
            if path in own:
                value = own[path]
                if isinstance(field, forms.ChoiceField) and info.annotation is bool:
                    value = {True: "yes", False: "no"}.get(value, "")
                elif path.endswith(".acknowledge"):
                    value = "minutes" if value is None else value
                elif isinstance(value, list):
                    value = ", ".join(str(v) for v in value)
                field.initial = value
            self.fields[name] = field

    def values(self) -> dict[str, Any]:
        """The dotted path and value of every setting filled in (the others are defaults)."""
        out: dict[str, Any] = {}
        for name, path in self.paths.items():
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            if path.endswith(".acknowledge"):
                value = None if value == "minutes" else value
            elif value in ("yes", "no"):
                value = value == "yes"
            elif path.endswith("weekdays"):
                try:
                    value = [int(part) for part in str(value).split(",") if part.strip()]
                except ValueError:
                    self.add_error(name, "Enter weekday numbers separated by commas "
                                         "(0 Monday ... 6 Sunday).")
                    continue
            elif path.endswith("portal_checkins"):
                value = [part.strip() for part in str(value).split(",") if part.strip()]
            out[path] = value
        return out


class FamilyTherapistForm(forms.Form):
    """The care team's family therapist: the choices are the organization's active staff
    holding a therapy role (services.THERAPIST_ROLES); the service checks it again."""

    family_therapist = forms.ModelChoiceField(
        label="Family therapist", queryset=None, required=False, empty_label="None named",
        help_text="Family sessions are planned with this therapist unless they cannot take "
        "one that week; the plan then says why.")
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, organization_id: int | None, **kwargs: Any) -> None:
        from .services import family_therapist_choices

        kwargs.setdefault("auto_id", "family_%s")
        super().__init__(*args, **kwargs)
        self.fields["family_therapist"].queryset = family_therapist_choices(organization_id)
