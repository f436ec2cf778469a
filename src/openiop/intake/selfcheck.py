"""The public self-check "Is an IOP right for me?".

Anonymous. Nothing is stored, logged or kept in the session unless the person chooses to
send the result to a program (then a Referral with source "self_check"). The answers
travel back with that choice as hidden fields and are scored again on the server.
A crisis banner (988) shows whenever an answer signals risk (PHQ-9 item 9 above 0).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from openiop.care.levels import LEVEL_ORDER, PLAIN_LANGUAGE
from openiop.care.models import Program
from openiop.core.forms import apply_validation_error

from .forms import InstrumentForm
from .instruments import INSTRUMENTS, score
from .loc import Recommendation, recommend
from .safety import CRISIS_LINE, safety_task_open
from .services import referral_create

HOURS_CHOICES = [("3", "Fewer than 6 hours"), ("7", "6 to 8 hours"), ("12", "9 to 19 hours"),
                 ("20", "20 hours or more")]
YES_NO = [("no", "No"), ("yes", "Yes")]
CONSENT = ("I agree that the program I chose may contact me about my self-check result and "
           "my request. I understand this is not an emergency service.")


class ContextForm(forms.Form):
    age_group = forms.ChoiceField(label="How old are you?", widget=forms.RadioSelect,
                                  choices=[("adult", "18 or older"), ("teen", "12 to 17")])
    hours = forms.ChoiceField(label="How many hours a week could you set aside for treatment?",
                              choices=HOURS_CHOICES, widget=forms.RadioSelect)
    substances = forms.ChoiceField(
        label="Is alcohol or drug use causing problems for you or worrying people close to you?",
        choices=YES_NO, widget=forms.RadioSelect)
    home_safe = forms.ChoiceField(
        label="Is where you live a safe and supportive place to recover?",
        choices=[("yes", "Yes"), ("no", "No")], widget=forms.RadioSelect)


class SendForm(forms.Form):
    program = forms.ModelChoiceField(queryset=Program.objects.none(),
                                     label="Program to send my result to")
    name = forms.CharField(label="Your name", max_length=150)
    phone = forms.CharField(label="Phone", required=False, max_length=30)
    email = forms.EmailField(label="Email", required=False)
    consent = forms.BooleanField(label=CONSENT)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.filter(
            is_published=True, is_active=True).select_related("organization", "site")
        self.fields["program"].label_from_instance = lambda p: (
            f"{p.name}, {p.organization.name} ({p.site.city})")


def _forms(data: Any = None) -> tuple[InstrumentForm, InstrumentForm, ContextForm]:
    return (InstrumentForm("phq9", data, prefix="phq9"), InstrumentForm("gad7", data, prefix="gad7"),
            ContextForm(data, prefix="ctx"))


def evaluate(phq: InstrumentForm, gad: InstrumentForm, ctx: ContextForm) -> dict[str, Any]:
    """Score the answers and map them onto the level-of-care engine.

    The public has no clinician ratings, so dimensions come from the answers: the
    worse of PHQ-9 and GAD-7 severity for dimension 3, substance problems for dimension 5,
    an unsafe home for dimension 6. The result is a suggestion, said so on the page.
    """
    phq9 = score("phq9", phq.answers())
    gad7 = score("gad7", gad.answers())
    worst = max(phq9.total or 0, int((gad7.total or 0) * 27 / 21))
    emotional = 0 if worst < 5 else 1 if worst < 10 else 2 if worst < 20 else 3
    c = ctx.cleaned_data
    dimensions = {"withdrawal": 0, "biomedical": 0, "emotional": emotional,
                  "readiness": 1, "relapse": 2 if c["substances"] == "yes" else 0,
                  "environment": 3 if c["home_safe"] == "no" else 0}
    rec: Recommendation = recommend(screening={"phq9": phq9, "gad7": gad7},
                                    dimensions=dimensions, hours_available=c["hours"],
                                    adolescent=c["age_group"] == "teen")
    return {
        "phq9": phq9, "gad7": gad7, "rec": rec,
        "crisis_needed": phq9.safety,
        "levels": [(code, PLAIN_LANGUAGE[code], code == rec.level) for code in LEVEL_ORDER],
        "summary": (f"Self-check: PHQ-9 {phq9.total} ({phq9.band_label.lower()}), GAD-7 "
                    f"{gad7.total} ({gad7.band_label.lower()}); suggested level "
                    f"{rec.level}; can attend about {c['hours']} h a week."),
    }


def _carried(*fs: forms.Form) -> list[tuple[str, Any]]:
    out = []
    for f in fs:
        for name in f.fields:
            key = f.add_prefix(name)
            if key in f.data:
                out.append((key, f.data[key]))
    return out


@require_http_methods(["GET", "POST"])
def self_check(request: HttpRequest) -> HttpResponse:
    phq, gad, ctx = _forms(request.POST or None)
    context: dict[str, Any] = {"phq": phq, "gad": gad, "ctx": ctx, "crisis": CRISIS_LINE,
                               "instruments": INSTRUMENTS}
    if request.method == "POST":
        valid = all([phq.is_valid(), gad.is_valid(), ctx.is_valid()])
        # Any risk answer shows the crisis banner, even when other answers are missing.
        context["crisis_needed"] = request.POST.get("phq9-q9") not in (None, "", "0")
        if valid:
            context |= evaluate(phq, gad, ctx)
            context["send_form"] = SendForm()
            context["carried"] = _carried(phq, gad, ctx)
            return render(request, "intake/self_check_result.html", context)
        return render(request, "intake/self_check.html", context, status=400)
    return render(request, "intake/self_check.html", context)


@require_POST
def self_check_send(request: HttpRequest) -> HttpResponse:
    phq, gad, ctx = _forms(request.POST)
    send = SendForm(request.POST)
    if not all([phq.is_valid(), gad.is_valid(), ctx.is_valid()]):
        return render(request, "intake/self_check.html",
                      {"phq": phq, "gad": gad, "ctx": ctx, "crisis": CRISIS_LINE}, status=400)
    result = evaluate(phq, gad, ctx)
    context = {"phq": phq, "gad": gad, "ctx": ctx, "crisis": CRISIS_LINE, **result,
               "send_form": send, "carried": _carried(phq, gad, ctx)}
    if send.is_valid():
        data = send.cleaned_data
        program = data["program"]
        try:
            referral = referral_create(
                source="self_check", name=data["name"], phone=data["phone"],
                email=data["email"], reason=result["summary"],
                organization=program.organization, program=program, consent_text=CONSENT,
                urgent=result["crisis_needed"], request=request,
            )
        except ValidationError as exc:
            apply_validation_error(send, exc)
        else:
            if result["phq9"].safety:
                # The person asked to be contacted and answered item 9 above 0: the program's
                # team gets an urgent task, like any other safety flag.
                safety_task_open(organization=program.organization, result=result["phq9"],
                                 referral=referral, request=request)
            return render(request, "intake/self_check_sent.html",
                          {"program": program, "crisis": CRISIS_LINE,
                           "crisis_needed": result["crisis_needed"]})
    return render(request, "intake/self_check_result.html", context, status=400)
