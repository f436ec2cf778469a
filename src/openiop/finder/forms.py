"""Forms of the public finder: search, contact request, CSV import."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError

from . import vocab
from .geo import ZipPoint, zip_point
from .selectors import MAX_RADIUS, MIN_RADIUS, SearchCriteria

RADIUS_CHOICES = [(5, "5 miles"), (10, "10 miles"), (25, "25 miles"), (50, "50 miles"),
                  (100, "100 miles"), (250, "250 miles"), (500, "500 miles")]
FOCUS_CHOICES = [("", "Any"), ("mh", "Mental health"), ("su", "Substance use"),
                 ("both", "Both together (co-occurring)")]
MOUD_CHOICES = [("", "No preference"), ("any", "Any medication for opioid use disorder"),
                *vocab.MOUD.items()]
SORT_CHOICES = [("distance", "Nearest first"), ("openings", "Most openings first")]
SPECIAL_POPULATIONS = [(k, v) for k, v in vocab.POPULATIONS.items() if k not in vocab.AGE_GROUPS]


class _Checkboxes(forms.CheckboxSelectMultiple):
    pass


class SearchForm(forms.Form):
    """GET form: every field optional except the ZIP; conflicting choices are named."""

    zip = forms.CharField(label="ZIP code", max_length=10,
                          widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                        "autocomplete": "postal-code"}))
    radius = forms.IntegerField(
        label="Distance", min_value=MIN_RADIUS, max_value=MAX_RADIUS, required=False,
        widget=forms.Select(choices=RADIUS_CHOICES),
        error_messages={
            "min_value": f"The distance must be at least {MIN_RADIUS} miles.",
            "max_value": f"The distance can be at most {MAX_RADIUS} miles.",
            "invalid": f"The distance must be a whole number of miles ({MIN_RADIUS}-{MAX_RADIUS}).",
        })
    focus = forms.ChoiceField(label="Help with", choices=FOCUS_CHOICES, required=False)
    age_group = forms.ChoiceField(
        label="Age group", required=False,
        choices=[("", "Any")] + [(k, vocab.POPULATIONS[k]) for k in vocab.AGE_GROUPS])
    schedule = forms.MultipleChoiceField(label="Hours that work for me", required=False,
                                         choices=list(vocab.SCHEDULE.items()),
                                         widget=_Checkboxes)
    family = forms.BooleanField(label="Family therapy", required=False)
    medication_management = forms.BooleanField(label="Medication management", required=False)
    moud = forms.ChoiceField(label="Medications for opioid use disorder", required=False,
                             choices=MOUD_CHOICES)
    holistic = forms.MultipleChoiceField(label="Holistic activities", required=False,
                                         choices=list(vocab.HOLISTIC.items()),
                                         widget=_Checkboxes)
    payment = forms.MultipleChoiceField(label="How I will pay", required=False,
                                        choices=list(vocab.PAYMENT.items()), widget=_Checkboxes)
    insurer = forms.ChoiceField(label="My insurance company", required=False,
                                choices=[("", "Any")] + [(i, i) for i in vocab.INSURERS])
    language = forms.ChoiceField(label="Language", required=False,
                                 choices=[("", "Any")] + [(x, x) for x in vocab.COMMON_LANGUAGES])
    populations = forms.MultipleChoiceField(label="Programs for", required=False,
                                            choices=SPECIAL_POPULATIONS, widget=_Checkboxes)
    level = forms.MultipleChoiceField(label="Level of care", required=False,
                                      choices=list(vocab.LEVELS.items()), widget=_Checkboxes)
    telehealth = forms.BooleanField(label="Telehealth available", required=False)
    openings = forms.BooleanField(label="Has openings now", required=False)
    sort = forms.ChoiceField(label="Sort", choices=SORT_CHOICES, required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000,
                              widget=forms.HiddenInput)

    point: ZipPoint | None = None

    def clean_zip(self) -> str:
        raw = self.cleaned_data["zip"].strip()
        if not re.fullmatch(r"\d{5}(-\d{4})?", raw):
            raise ValidationError("Enter a 5-digit ZIP code, for example 43215.")
        point = zip_point(raw[:5])
        if point is None:
            raise ValidationError(f"We don't know the ZIP code {raw[:5]}. Check it, or try a "
                                  f"ZIP code nearby.")
        self.point = point
        return raw[:5]

    def clean(self) -> dict:
        data = super().clean()
        levels = set(data.get("level") or [])
        if data.get("focus") == "mh" and data.get("moud"):
            self.add_error("moud", "Medications for opioid use disorder are offered by "
                           "substance use or co-occurring programs. Choose 'Substance use' "
                           "or 'Both' under 'Help with', or set this to 'No preference'.")
        if levels and levels <= {"RES", "INP"} and data.get("schedule"):
            self.add_error("schedule", "Residential and inpatient care are around the clock, "
                           "so they have no hour choices. Clear the hours, or add an "
                           "outpatient level of care.")
        if data.get("insurer") and data.get("payment") and "private" not in data["payment"]:
            self.add_error("insurer", "You picked an insurance company but not 'Private "
                           "insurance' under 'How I will pay'. Tick it, or clear the company.")
        if data.get("age_group") == "adolescents" and "medicare" in (data.get("payment") or []):
            self.add_error("payment", "Medicare covers adults 65+ and some adults with "
                           "disabilities, not adolescents. Clear Medicare or the age group.")
        return data

    def criteria(self) -> SearchCriteria:
        d = self.cleaned_data
        payment = list(d.get("payment") or [])
        return SearchCriteria(
            latitude=self.point.latitude, longitude=self.point.longitude,
            radius=d.get("radius") or 25, focus=d.get("focus") or "",
            age_group=d.get("age_group") or "", populations=tuple(d.get("populations") or ()),
            levels=tuple(d.get("level") or ()), schedule=tuple(d.get("schedule") or ()),
            therapies=("family",) if d.get("family") else (),
            medication_management=bool(d.get("medication_management")),
            moud=d.get("moud") or "", holistic=tuple(d.get("holistic") or ()),
            payment=tuple(payment), insurer=d.get("insurer") or "",
            language=d.get("language") or "", telehealth=bool(d.get("telehealth")),
            openings_only=bool(d.get("openings")), sort=d.get("sort") or "distance",
        )


class ContactForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=120,
                           help_text="A first name is enough.",
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    requester = forms.ChoiceField(label="I am asking", choices=[
        ("self", "For myself"), ("family", "For a family member or friend"),
        ("professional", "As a professional (e.g. discharge planner)")])
    contact_method = forms.ChoiceField(label="How should they reach you?", choices=[
        ("phone", "Phone call"), ("text", "Text message"), ("email", "Email")])
    phone = forms.CharField(label="Phone", max_length=30, required=False,
                            widget=forms.TextInput(attrs={"type": "tel",
                                                          "autocomplete": "tel"}))
    email = forms.EmailField(label="Email", required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    best_time = forms.CharField(label="Best time to reach you", max_length=120, required=False,
                                help_text="For example: weekdays after 5 pm.")
    need = forms.CharField(label="What do you need help with?", max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           help_text="A sentence or two is enough. Don't include anything you "
                                     "would not want a program's intake team to read.")
    consent = forms.BooleanField(label="I agree to the statement above.")
    # Honeypot: hidden from people (and from assistive technology); bots fill it in.
    website = forms.CharField(required=False, label="Leave this empty",
                              widget=forms.TextInput(attrs={"tabindex": "-1",
                                                            "autocomplete": "off"}))

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone", "").strip()
        digits = re.sub(r"\D", "", phone)
        if phone and not (len(digits) == 10 or (len(digits) == 11 and digits[0] == "1")):
            raise ValidationError("Enter a 10-digit phone number, e.g. 614-555-0123.")
        return phone

    def clean(self) -> dict:
        data = super().clean()
        method = data.get("contact_method")
        if method in ("phone", "text") and not data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", "Give a phone number so they can call or text you, or "
                                    "choose email.")
        if method == "email" and not data.get("email") and "email" not in self.errors:
            self.add_error("email", "Give an email address, or choose phone.")
        return data

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))


class ImportForm(forms.Form):
    source_name = forms.CharField(label="Source name", max_length=60,
                                  help_text="Names the directory the file comes from, e.g. "
                                            "findtreatment-2026. Re-importing the same source "
                                            "updates its listings.")
    file = forms.FileField(label="CSV file", help_text="Format: docs/finder-import.md")
