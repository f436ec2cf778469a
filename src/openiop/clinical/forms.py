"""Forms for clinical pages. Rules live in services; forms only parse and label input."""

from __future__ import annotations

from typing import Any

from django import forms

from .models import SafetyPlan, TreatmentObjective

TEXTAREA = forms.Textarea(attrs={"rows": 3})


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label="Reason for emergency access", max_length=500, widget=TEXTAREA,
        help_text="You are not on this participant's care team. Your reason and this access "
                  "are recorded in the audit trail and reviewed.",
    )


class AddendumForm(forms.Form):
    """An addendum; on a group note, for one attendee's entry or the whole note (chosen
    explicitly, the whole note confirmed after a warning naming how many charts)."""

    scope = forms.ChoiceField(label="This addendum is for", required=False, choices=[])
    reason = forms.CharField(label="Reason", max_length=300,
                             help_text="e.g. late entry, correction, clarification.")
    text = forms.CharField(label="Addendum", widget=forms.Textarea(attrs={"rows": 4}),
                           max_length=10_000)
    confirm_whole = forms.BooleanField(required=False, label="Yes, add it to every chart")

    def __init__(self, *args: Any, note: Any = None, entries: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = [e.participant for e in entries]
        if note is not None and note.is_group:
            n = len(people)
            self.fields["scope"].choices = [
                ("", "Choose: one attendee's entry or the whole note"),
                *[(str(p.code), f"Only {p.display_name}'s entry (MRN {p.mrn})") for p in people],
                ("whole", f"The whole group note (shown in all {n} attendees' charts)"),
            ]
            self.fields["confirm_whole"].label = (
                f"Yes, add it to all {n} attendees' charts")
        else:
            del self.fields["scope"]
            del self.fields["confirm_whole"]


class SignForm(forms.Form):
    override_reason = forms.CharField(
        label="Reason to sign despite the warnings", required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PlanStartForm(forms.Form):
    statement = forms.CharField(label="What the participant wants from treatment, in their "
                                      "own words", required=False, widget=TEXTAREA)


class ProblemForm(forms.Form):
    text = forms.CharField(label="Problem", widget=TEXTAREA, max_length=4000)
    participant_words = forms.CharField(label="In the participant's words", required=False,
                                        widget=TEXTAREA, max_length=4000)


class GoalForm(forms.Form):
    text = forms.CharField(label="Measurable goal", widget=TEXTAREA, max_length=4000)
    participant_words = forms.CharField(label="In the participant's words", required=False,
                                        widget=TEXTAREA, max_length=4000)


class ObjectiveForm(forms.Form):
    text = forms.CharField(label="Objective", widget=TEXTAREA, max_length=4000)
    target_date = forms.DateField(label="Target date",
                                  widget=forms.DateInput(attrs={"type": "date"}))


class InterventionForm(forms.Form):
    modality = forms.CharField(label="Modality", max_length=120)
    frequency = forms.CharField(label="Frequency", max_length=120)
    responsible = forms.ChoiceField(label="Responsible staff")
    description = forms.CharField(label="Details", required=False, widget=TEXTAREA)

    def __init__(self, *args: object, staff: list[tuple[str, str]] = (), **kwargs: object):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].choices = [("", "Choose…"), *staff]


class ObjectiveStatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=TreatmentObjective.Status.choices)


class ReviewForm(forms.Form):
    summary = forms.CharField(label="Review summary", widget=TEXTAREA, max_length=4000)
    reviewed_on = forms.DateField(label="Reviewed on",
                                  widget=forms.DateInput(attrs={"type": "date"}))


class AcknowledgeForm(forms.Form):
    method = forms.ChoiceField(label="How the participant acknowledged", choices=[
        ("signed in person", "Signed in person"),
        ("verbal, in session", "Verbal, in session"),
        ("portal", "In the portal"),
    ])


class SafetyPlanForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = SafetyPlan
        fields = ["warning_signs", "internal_coping", "social_distractions", "help_contacts",
                  "professional_contacts", "crisis_line", "environment_safety",
                  "reasons_for_living"]
        widgets = {f: forms.Textarea(attrs={"rows": 3}) for f in fields if f != "crisis_line"}


class ReleaseForm(forms.Form):
    """Release a printed note to a named recipient outside the program: who receives it
    and why (42 CFR 2.31(a)(4)-(5)); the disclosure decision checks the matching consent."""

    note = forms.ChoiceField(label="Note to release")
    release_to = forms.ChoiceField(label="Recipient is", choices=[
        ("person", "A named person"), ("organization", "A named organization")])
    recipient = forms.CharField(label="Recipient's name", max_length=200)
    purpose = forms.ChoiceField(label="Purpose of the release")

    def __init__(self, *args: Any, notes: Any = (), **kwargs: Any) -> None:
        from openiop.participants.models import DisclosurePurpose

        super().__init__(*args, **kwargs)
        self.fields["note"].choices = [
            (str(n.code), f"{n.session.title if n.session_id else 'Note'}, "
                          f"{n.get_kind_display().lower()} ({n.get_status_display().lower()})")
            for n in notes]
        self.fields["purpose"].choices = DisclosurePurpose.choices
