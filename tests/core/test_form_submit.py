"""The one form -> service -> error step of a view (`core.forms.submit`)."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import ValidationError

from openiop.core.exceptions import Conflict, InvalidTransition
from openiop.core.forms import submit


class _Form(forms.Form):
    name = forms.CharField()
    version = forms.IntegerField(widget=forms.HiddenInput)


def test_it_returns_the_service_result_even_when_it_is_none():
    form = _Form({"name": "Ada", "version": 1})
    saved = submit(form, lambda data: None)
    assert saved is not None and saved.result is None
    assert submit(_Form({"name": "Ada", "version": 1}), lambda data: data["name"]).result == "Ada"


def test_an_invalid_form_never_reaches_the_service():
    called = []
    form = _Form({"version": 1})
    assert submit(form, called.append) is None
    assert called == [] and "name" in form.errors


def test_a_validation_error_lands_beside_the_field_it_names():
    def service(data):
        raise ValidationError({"name": "Taken.", "elsewhere": "Not here."})

    form = _Form({"name": "Ada", "version": 1})
    assert submit(form, service) is None
    assert form.errors["name"] == ["Taken."]
    assert form.non_field_errors() == ["elsewhere: Not here."]


def test_a_domain_error_goes_on_its_visible_field_else_above_the_form():
    def on_name(data):
        raise InvalidTransition("Not now.", field="name")

    def on_version(data):
        raise Conflict("Someone else changed it.", field="version")

    form = _Form({"name": "Ada", "version": 1})
    assert submit(form, on_name) is None and form.errors["name"] == ["Not now."]
    # The hidden version field cannot show an error: it goes above the form.
    form = _Form({"name": "Ada", "version": 1})
    assert submit(form, on_version) is None
    assert form.non_field_errors() == ["Someone else changed it."] and "version" not in form.errors


def test_a_renamed_argument_still_lands_beside_its_field():
    def service(data):
        raise ValidationError({"full_name": "Too long."})

    def refused(data):
        raise InvalidTransition("Not now.", field="full_name")

    form = _Form({"name": "Ada", "version": 1})
    assert submit(form, service, renamed={"full_name": "name"}) is None
    assert form.errors["name"] == ["Too long."] and not form.non_field_errors()
    form = _Form({"name": "Ada", "version": 1})
    assert submit(form, refused, renamed={"full_name": "name"}) is None
    assert form.errors["name"] == ["Not now."]


def test_a_refusal_the_view_answers_itself_propagates():
    class Pending(Conflict):
        pass

    def service(data):
        raise Pending("Acknowledge the warnings first.")

    form = _Form({"name": "Ada", "version": 1})
    with pytest.raises(Pending):
        submit(form, service, reraise=(Pending,))
    assert not form.errors
