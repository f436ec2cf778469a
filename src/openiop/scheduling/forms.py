"""Forms of the director's set-up pages: input parsing and field messages.

The rules live in SessionTemplate.clean() (run by the ModelForm) and in services.py,
which checks everything again for callers that are not forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError

from openiop.accounts.models import User
from openiop.care.models import Program, Track
from openiop.core.forms import TIME_ERRORS
from openiop.organizations.models import Room, Site

from .models import SessionTemplate, StaffHours, Weekday
from .services.setup import MAX_WEEKLY_HOURS, credentials_parse, minutes_between

if TYPE_CHECKING:
    from openiop.care.models import EpisodeOfCare


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"


class TrackChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Track) -> str:
        return f"{obj.program.name} · {obj.name}"


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        creds = obj.staff_profile.credential_label
        return f"{obj} ({creds})" if creds else str(obj)


class SessionTemplateForm(forms.ModelForm):
    """Create or edit a template. The model's clean() refuses half-fixed times and an end
    before the start; a fixed slot's length comes from its times."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    required_credentials = forms.CharField(
        required=False, max_length=200, label="Facilitator must hold one of",
        help_text="Credential codes separated by commas, e.g. LMFT or LCSW, LPC. Empty: anyone.")

    class Meta:
        model = SessionTemplate
        fields = ("program", "track", "kind", "title", "weekday", "start_time", "end_time",
                  "duration_minutes", "counts_toward_hours", "required_credentials", "room",
                  "facilitator", "capacity")
        field_classes = {"track": TrackChoiceField, "facilitator": StaffChoiceField}
        widgets = {"start_time": TimeInput(), "end_time": TimeInput()}
        error_messages = {"start_time": TIME_ERRORS, "end_time": TIME_ERRORS}
        labels = {"weekday": "Weekday", "duration_minutes": "Length (minutes)",
                  "counts_toward_hours": "Counts toward weekly hours", "start_time": "Starts",
                  "end_time": "Ends"}
        help_texts = {
            "track": "Empty for a flexible appointment (individual, family, medication) of the whole program.",
            "weekday": "Weekday, start and end for a weekly session; leave all three empty for a "
                       "flexible appointment the planner places.",
            "duration_minutes": "For a flexible appointment. A weekly session takes it from its times.",
        }

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.filter(organization=organization, is_active=True)
        self.fields["track"].queryset = (Track.objects.filter(program__organization=organization, is_active=True)
                                         .select_related("program").order_by("program__name", "start_time"))
        self.fields["room"].queryset = (Room.objects.filter(site__organization=organization, is_active=True)
                                        .select_related("site"))
        self.fields["facilitator"].queryset = (
            User.objects.filter(staff_profile__organization=organization, staff_profile__is_active=True,
                                is_active=True).select_related("staff_profile").order_by("last_name"))
        self.fields["duration_minutes"].required = False
        self.fields["weekday"].choices = [("", "— flexible —"), *Weekday.choices]
        self.fields["track"].empty_label = "— whole program (flexible appointment) —"
        self.fields["room"].empty_label = "— none —"
        self.fields["facilitator"].empty_label = "— none (the planner picks for appointments) —"
        if self.instance.pk:
            self.fields["program"].disabled = True
            self.fields["program"].help_text = "A template stays in its program."
            if not self.is_bound:
                self.initial["required_credentials"] = ", ".join(self.instance.required_credentials or [])
                self.initial["version"] = self.instance.version

    def clean_required_credentials(self) -> list[str]:
        try:
            return credentials_parse(self.cleaned_data.get("required_credentials", ""))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["required_credentials"]) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end > start:
            data["duration_minutes"] = minutes_between(start, end)
        elif (data.get("weekday") is None and not start and not end and not data.get("duration_minutes")
              and "duration_minutes" not in self.errors):
            self.add_error("duration_minutes", "A flexible appointment needs its length in minutes (10 to 600).")
        return data


class ClosureForm(forms.Form):
    date = forms.DateField(widget=DateInput())
    site = forms.ModelChoiceField(queryset=Site.objects.none(), required=False, empty_label="All sites")
    reason = forms.CharField(max_length=120, help_text="Staff see it, e.g. Staff training day.")
    cancel_sessions = forms.BooleanField(
        required=False, label="Also cancel the sessions already scheduled that day",
        help_text="Booked participants are told in the app and offered other sessions.")

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(organization=organization)


class StaffHoursForm(forms.ModelForm):
    class Meta:
        model = StaffHours
        fields = ("weekday", "start_time", "end_time")
        widgets = {"start_time": TimeInput(), "end_time": TimeInput()}
        error_messages = {"start_time": TIME_ERRORS, "end_time": TIME_ERRORS}
        labels = {"start_time": "From", "end_time": "To"}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", "The window must end after it starts.")
        return data

    def _post_clean(self) -> None:  # the service validates the row once, in one place
        pass


class MaxHoursForm(forms.Form):
    max_weekly_hours = forms.IntegerField(
        label="Most hours a week", min_value=1, max_value=MAX_WEEKLY_HOURS,
        error_messages={"min_value": f"Enter whole hours from 1 to {MAX_WEEKLY_HOURS}.",
                        "max_value": f"Enter whole hours from 1 to {MAX_WEEKLY_HOURS}.",
                        "invalid": f"Enter whole hours from 1 to {MAX_WEEKLY_HOURS}."},
        help_text="The planner books no more than this.")


class TrackMoveForm(forms.Form):
    """Move to another track of the program from a date; `leave` ends the membership only."""

    track = forms.ModelChoiceField(queryset=Track.objects.none(), required=False, empty_label=None,
                                   label="Move to track")
    start_date = forms.DateField(widget=DateInput(), label="From")
    leave = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, episode: EpisodeOfCare, current: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        qs = Track.objects.filter(program_id=episode.program_id, is_active=True)
        if current is not None:
            qs = qs.exclude(pk=current.track_id)
        else:
            self.fields["track"].label = "Join track"
        self.fields["track"].queryset = qs.order_by("start_time")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("leave"):
            data["track"] = None
        elif not data.get("track") and "track" not in self.errors:
            self.add_error("track", "Pick the track to move to.")
        return data


class AlternativeTracksForm(forms.Form):
    """The other tracks of the program this person can attend when theirs has no seat."""

    tracks = forms.ModelMultipleChoiceField(
        queryset=Track.objects.none(), required=False, widget=forms.CheckboxSelectMultiple,
        label="Other tracks they can attend",
        help_text="The weekly plan may propose a move to one of these when their track has no "
                  "seat for them; you accept or decline each move when applying the plan.")

    def __init__(self, *args: Any, enrollment: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tracks"].queryset = (
            Track.objects.filter(program_id=enrollment.track.program_id, is_active=True)
            .exclude(pk=enrollment.track_id).order_by("start_time"))
        if not self.is_bound:
            self.initial["tracks"] = [t.pk for t in enrollment.acceptable_tracks.all()]
