"""Helpers shared by forms."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

# Time fields: say what a valid time is, also when the field arrives empty (a browser's
# time box sends nothing when what was typed, e.g. 25:99, is not a time).
TIME_ERRORS = {
    "required": "Enter a time such as 09:30 (hours 0 to 23, minutes 0 to 59).",
    "invalid": "Not a valid time: enter one such as 09:30 (hours 0 to 23, minutes 0 to 59).",
}


def apply_validation_error(form: forms.BaseForm, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the form, by field where it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                message = " ".join(error.messages)
                form.add_error(target, message if target else f"{field}: {message}")
    else:
        for message in exc.messages:
            form.add_error(None, message)
    if NON_FIELD_ERRORS in form.errors and not form.errors[NON_FIELD_ERRORS]:
        del form.errors[NON_FIELD_ERRORS]
