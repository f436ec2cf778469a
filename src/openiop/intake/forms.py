"""Forms for referrals, screeners, level-of-care assessment, admission and closing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from openiop.care.forms import safety_decision_field
from openiop.care.levels import LevelOfCare
from openiop.care.models import Program, Track

from .instruments import INSTRUMENTS, SEXES, ScoringError, score
from .loc import DIMENSIONS, rules_data
from .models import Referral

DATE = forms.DateInput(attrs={"type": "date"})


class InstrumentForm(forms.Form):
    """One radio group per item of an instrument (fieldset + legend in the template).

    Items asked only after a yes (C-SSRS Q3-Q5, the past-3-months follow-up) are optional
    here; the scoring function enforces the skip logic and names any item at fault.

    With `confirm_contradictions` (staff entry), C-SSRS answers that contradict the skip
    logic are shown back with the reason and saved only once the clinician ticks
    `confirm_answers`; they are never dropped.
    """

    def __init__(self, instrument: str, *args: Any, with_sex: bool | None = None,
                 confirm_contradictions: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = INSTRUMENTS[instrument]
        for item in self.instrument.items:
            self.fields[item.id] = forms.TypedChoiceField(
                label=f"{item.number}. {item.text}",
                choices=[(str(v), label) for v, label in item.options],
                coerce=int, widget=forms.RadioSelect, required=not item.asked_if,
            )
        if with_sex if with_sex is not None else instrument == "auditc":
            self.fields["sex"] = forms.ChoiceField(
                label="Sex (sets the AUDIT-C cut-off)", required=False,
                choices=[("", "Not stated (uses the lower cut-off)")]
                + [(s, s.title()) for s in SEXES],
            )
        self.confirm_contradictions = confirm_contradictions and instrument == "cssrs"
        if self.confirm_contradictions:
            self.fields["confirm_answers"] = forms.BooleanField(
                label="I went over these answers with the person: record them as given",
                required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.confirm_contradictions and not cleaned.get("confirm_answers"):
            try:
                result = score(self.instrument.code, self.answers())
            except ScoringError:
                return cleaned  # the service names each item at fault
            for flag in result.flags:
                if flag.code == "answers_to_confirm":
                    self.add_error("confirm_answers", f"{flag.message} Tick the box to record "
                                   "them as given, or correct the answers.")
        return cleaned

    def answers(self) -> dict[str, int]:
        return {i.id: self.cleaned_data[i.id] for i in self.instrument.items
                if self.cleaned_data.get(i.id) is not None}


class ReferralForm(forms.Form):
    source = forms.ChoiceField(choices=[c for c in Referral.Source.choices
                                        if c[0] not in ("finder", "self_check")])
    referrer_name = forms.CharField(label="Referred by (name, unit or agency)", required=False,
                                    max_length=150)
    name = forms.CharField(label="Person's name", max_length=150)
    date_of_birth = forms.DateField(required=False, widget=DATE)
    phone = forms.CharField(required=False, max_length=30)
    email = forms.EmailField(required=False)
    program = forms.ModelChoiceField(queryset=Program.objects.none(), required=False,
                                     empty_label="Not decided yet")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    urgent = forms.BooleanField(required=False, label="Urgent")

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.filter(
            organization_id=organization_id, is_active=True)


class StartScreeningForm(forms.Form):
    date_of_birth = forms.DateField(widget=DATE, help_text="Opens the person's record.")
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "start_%s")  # unique ids: several forms share a page
        super().__init__(*args, **kwargs)


_RATINGS = [(str(k), f"{k}: {v}") for k, v in sorted(
    (int(k), v) for k, v in rules_data()["rating_words"].items())]


class AssessmentForm(forms.Form):
    hours_available = forms.DecimalField(
        label="Hours a week the person can attend", min_value=0, max_value=168,
        decimal_places=1)
    decided_level = forms.ChoiceField(
        label="Level of care decided (proposed, without a licence that permits assessment)",
        required=False,
        choices=[("", "Accept the recommendation"), *list(LevelOfCare.choices)],
    )
    override_reason = forms.CharField(
        label="Reason for overriding the recommendation", required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when the decided level differs from the recommendation.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = rules_data()["dimensions"]
        fields = {}
        for dim in DIMENSIONS:
            fields[dim] = forms.TypedChoiceField(label=labels[dim]["label"], choices=_RATINGS,
                                                 coerce=int)
        self.fields = fields | dict(self.fields)

    def dimensions(self) -> dict[str, int]:
        return {d: self.cleaned_data[d] for d in DIMENSIONS}


class AdmitForm(forms.Form):
    program = forms.ModelChoiceField(queryset=Program.objects.none())
    track = forms.ModelChoiceField(queryset=Track.objects.none())
    level_of_care = forms.ChoiceField(label="Clinical level of care", choices=LevelOfCare.choices)
    authorized_level_of_care = forms.ChoiceField(
        label="Payer-authorized level", required=False,
        choices=[("", "Not authorized yet"), *list(LevelOfCare.choices)])
    admitted_on = forms.DateField(widget=DATE)
    primary_therapist = forms.ModelChoiceField(queryset=None)
    prescriber = forms.ModelChoiceField(queryset=None, required=False)
    case_manager = forms.ModelChoiceField(queryset=None, required=False)
    admission_exception = forms.CharField(
        label="Reason to admit without a screening and a decided assessment", required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when the level of care has not been decided; a licensed clinician "
        "admits then, and the reason is kept on the episode.")
    safety_decision = safety_decision_field()
    waitlist = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        from openiop.accounts.models import Role, User

        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.filter(
            organization_id=organization_id, is_active=True)
        self.fields["track"].queryset = Track.objects.filter(
            program__organization_id=organization_id, is_active=True).select_related("program")
        self.fields["track"].label_from_instance = lambda t: (
            f"{t.program.name}: {t.name} ({t.days_label} {t.start_time:%H:%M}-{t.end_time:%H:%M})")
        staff = User.objects.filter(staff_profile__organization_id=organization_id,
                                    is_active=True).order_by("last_name")
        self.fields["primary_therapist"].queryset = staff.filter(
            role__in=[Role.CLINICIAN, Role.DIRECTOR])
        self.fields["prescriber"].queryset = staff.filter(role=Role.PRESCRIBER)
        self.fields["case_manager"].queryset = staff.filter(
            role__in=[Role.CLINICIAN, Role.DIRECTOR, Role.NURSE])
        if not self.is_bound:
            self.initial.setdefault("admitted_on", timezone.localdate())


class CloseReferralForm(forms.Form):
    status = forms.ChoiceField(label="Outcome", choices=[
        (Referral.Status.DECLINED, "Declined"),
        (Referral.Status.REFERRED_ELSEWHERE, "Referred elsewhere")])
    referred_to = forms.CharField(label="Referred to", required=False, max_length=200)
    note = forms.CharField(label="Why", widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput)
    # Closing ends the referral for good, so the page asks first: the first submission
    # shows what will happen, the second (with confirmed) closes.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "close_%s")
        super().__init__(*args, **kwargs)

