"""Input forms. Rules (0-10 scales, closed homework...) live in services; forms parse."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from .models import Module, RelapsePreventionPlan, Skill

SCALE_CHOICES = [(str(i), str(i)) for i in range(11)]


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _now_local() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class SkillPracticeForm(forms.Form):
    skill = forms.ModelChoiceField(queryset=Skill.objects.none(), empty_label="Choose a skill")
    practiced_at = forms.DateTimeField(label="When", widget=LocalDateTimeInput(),
                                       input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    helpfulness = forms.CharField(label="How helpful was it? (0 = not at all, 10 = very)",
                                  max_length=6)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["skill"].queryset = Skill.objects.filter(is_active=True).order_by("name")
        self.fields["practiced_at"].initial = _now_local()


class CravingForm(forms.Form):
    occurred_at = forms.DateTimeField(label="When", widget=LocalDateTimeInput(),
                                      input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    intensity = forms.CharField(label="How strong was it? (0 = none, 10 = strongest)", max_length=6)
    trigger = forms.CharField(required=False, max_length=200,
                              help_text="What set it off: a place, person, feeling, time...")
    situation = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                max_length=1000, label="Where were you, what was happening?")
    what_helped = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                  max_length=1000, label="What helped?")
    used = forms.BooleanField(required=False, label="I used (a lapse). Telling your team helps them help you.")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["occurred_at"].initial = _now_local()


class HomeworkAssignForm(forms.Form):
    module = forms.ModelChoiceField(queryset=Module.objects.none(), required=False,
                                    empty_label="No module (use an objective)")
    plan_objective = forms.CharField(label="Treatment-plan objective", required=False, max_length=300)
    title = forms.CharField(max_length=200)
    instructions = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    due_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["module"].queryset = Module.objects.filter(is_active=True).order_by("title")


class HomeworkReviewForm(forms.Form):
    review_comment = forms.CharField(label="Comment for the participant", required=False,
                                     widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    close = forms.BooleanField(required=False, label="Close after review")
    version = forms.IntegerField(widget=forms.HiddenInput)


class HomeworkSubmitForm(forms.Form):
    response = forms.CharField(label="Your answer", widget=forms.Textarea(attrs={"rows": 6}),
                               max_length=5000)
    version = forms.IntegerField(widget=forms.HiddenInput)


class RelapsePlanForm(forms.Form):
    triggers = forms.CharField(label="My triggers", required=False,
                               widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
                               help_text="People, places, feelings and situations that raise my risk.")
    warning_signs = forms.CharField(label="My early warning signs", required=False,
                                    widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    coping_strategies = forms.CharField(label="What I will do (coping strategies)", required=False,
                                        widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    people_to_call = forms.CharField(label="People I can call", required=False,
                                     widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    after_lapse = forms.CharField(label="What I will do after a lapse", required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    @classmethod
    def for_plan(cls, plan: RelapsePreventionPlan | None, data: object = None) -> RelapsePlanForm:
        initial = {}
        if plan is not None:
            initial = {s: getattr(plan, s) for s in RelapsePreventionPlan.SECTIONS} | {"version": plan.version}
        return cls(data, initial=initial)


class HolisticNoteForm(forms.Form):
    activity = forms.CharField(max_length=200, help_text="What the group did, e.g. 'Chair yoga, 25 min'.")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=1000,
                           help_text="A short note about the session as a whole; no clinical detail about one person.")
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class RotationForm(forms.Form):
    """Positions per module: a number puts the module in the rotation at that place."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: object, modules: list[Module], current: dict[int, int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.modules = modules
        for module in modules:
            self.fields[f"pos_{module.pk}"] = forms.IntegerField(
                label=module.title, required=False, min_value=1, max_value=99,
                initial=current.get(module.pk),
                widget=forms.NumberInput(attrs={"class": "pos-input", "inputmode": "numeric"}),
            )

    def ordered_modules(self) -> list[Module]:
        picked = [
            (self.cleaned_data[f"pos_{m.pk}"], m.title, m) for m in self.modules
            if self.cleaned_data.get(f"pos_{m.pk}")
        ]
        return [m for _, _, m in sorted(picked, key=lambda t: (t[0], t[1]))]


class ApplyRotationForm(forms.Form):
    start = forms.DateField(label="Apply to sessions from", widget=forms.DateInput(attrs={"type": "date"}))


class ProgramHolisticForm(forms.Form):
    counts = forms.BooleanField(required=False, label="Holistic sessions count toward weekly therapy hours")
