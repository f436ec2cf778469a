from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="Username", max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label="Password", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code from your authenticator app",
        min_length=6, max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code",
                                      "pattern": "[0-9]{6}", "autofocus": True}),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip()
        if not token.isdigit():
            raise forms.ValidationError("The code is 6 digits, numbers only.")
        return token


class StaffInviteForm(forms.Form):
    username = forms.RegexField(label="Username", max_length=150, regex=r"^[\w.@+-]+$",
                                error_messages={"invalid": "Letters, digits and @ . + - _ only."})
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150)
    email = forms.EmailField(label="E-mail", required=False)
    title = forms.CharField(label="Job title", max_length=120, required=False)
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args: object, roles: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles


class DeactivateForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=300,
                             help_text="E.g. left the clinic on a given date.")
    confirm = forms.BooleanField(label="Yes, stop this person's sign-in now")
