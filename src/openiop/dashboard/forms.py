"""Forms of My work: resolving a safety task, the on-call rota."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.intake.models import SafetyTask
from openiop.intake.safety import NOTE_MAX_CHARS
from openiop.intake.safety_policy import DAY_NAMES

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class ResolveTaskForm(forms.Form):
    outcome = forms.ChoiceField(label="What was done", choices=SafetyTask.Outcome.choices,
                                widget=forms.RadioSelect)
    resolution = forms.CharField(
        label="Note", max_length=NOTE_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Who you reached, what was agreed, the next contact.")


class OnCallShiftForm(forms.Form):
    weekday = forms.TypedChoiceField(label="Day", coerce=int,
                                     choices=[(i, d) for i, d in enumerate(DAY_NAMES)])
    start_time = forms.TimeField(label="From", widget=TIME)
    end_time = forms.TimeField(label="Until", widget=TIME,
                               help_text="00:00 means midnight at the end of the day.")
    user = forms.ModelChoiceField(label="Clinician on call", queryset=None)

    def __init__(self, *args: Any, clinicians: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = clinicians
