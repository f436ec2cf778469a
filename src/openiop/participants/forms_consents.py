"""Forms of the chart's Consents tab."""

from __future__ import annotations

from django import forms

from .consents import FAMILY_SCOPES
from .models import Consent, DisclosurePurpose, RecipientKind

_DATE = forms.DateInput(attrs={"type": "date"})


class _Signed(forms.Form):
    signed_by_name = forms.CharField(label="Signed by (name)", max_length=200)
    signer_relationship = forms.CharField(
        label="Signer's relationship, if not the participant", max_length=60, required=False,
        help_text="E.g. parent, legal guardian. Leave blank when the participant signed.")
    signed_on = forms.DateField(label="Date signed", widget=_DATE)
    expires_on = forms.DateField(label="Expires on", required=False, widget=_DATE)
    expiry_event = forms.CharField(label="Or expires at this event", max_length=200,
                                   required=False, help_text="E.g. 'discharge from the program'.")
    replaces = forms.UUIDField(required=False, widget=forms.HiddenInput)


class Part2ConsentForm(_Signed):
    kind = forms.ChoiceField(label="Kind of consent", choices=[
        (Consent.Kind.PART2_TPO, Consent.Kind.PART2_TPO.label),
        (Consent.Kind.PART2_DISCLOSURE, Consent.Kind.PART2_DISCLOSURE.label)])
    disclosing_party = forms.CharField(
        label="Who may disclose", max_length=200, required=False,
        help_text="This program by default; or a general designation.")
    information = forms.CharField(label="How much and what kind of information",
                                  max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    recipient_kind = forms.ChoiceField(label="The recipient is", choices=RecipientKind.choices)
    recipient = forms.CharField(
        label="Recipient (name or general designation)", max_length=200, required=False,
        help_text="The person's or organization's name, or the class (e.g. 'my health "
                  "plans'); for a registered app, its name is used when left blank.")
    recipient_app = forms.ModelChoiceField(
        label="Registered app", required=False, queryset=None,
        help_text="When the recipient is an app (OAuth client) registered by your "
                  "organization.")
    purpose_code = forms.ChoiceField(
        label="Purpose", choices=DisclosurePurpose.choices,
        help_text="A TPO consent always covers treatment, payment and health care "
                  "operations (42 CFR 2.33(b)).")
    purpose = forms.CharField(label="Purpose in words", max_length=200, required=False,
                              help_text="Required for 'another purpose'.")

    field_order = ["kind", "disclosing_party", "information", "recipient_kind", "recipient",
                   "recipient_app", "purpose_code", "purpose"]

    def __init__(self, *args: object, organization_id: int | None = None,
                 **kwargs: object) -> None:
        from oauth2_provider.models import Application

        super().__init__(*args, **kwargs)
        self.fields["recipient_app"].queryset = Application.objects.filter(
            user__staff_profile__organization_id=organization_id).order_by("name", "pk")


class FamilyConsentForm(_Signed):
    related_person = forms.ModelChoiceField(label="Family or support person", queryset=None)
    scopes = forms.MultipleChoiceField(label="May see", choices=list(FAMILY_SCOPES.items()),
                                       widget=forms.CheckboxSelectMultiple)

    field_order = ["related_person", "scopes"]

    def __init__(self, *args: object, participant: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["related_person"].queryset = participant.related_people.all()


class RevokeForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=300,
                             help_text="E.g. 'revoked by the participant by phone'.")
    confirm = forms.BooleanField(label="Yes, revoke this consent now")


class PortalInviteForm(forms.Form):
    who = forms.ChoiceField(label="Who")
    username = forms.RegexField(label="Username", max_length=150, regex=r"^[\w.@+-]+$",
                                error_messages={"invalid": "Letters, digits and @ . + - _ only."})
    email = forms.EmailField(label="E-mail", required=False)

    def __init__(self, *args: object, choices: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["who"].choices = choices


class PortalDeactivateForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=300)
    confirm = forms.BooleanField(label="Yes, stop this portal sign-in now")
