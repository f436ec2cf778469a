"""Helpers shared by forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from .exceptions import DomainError

T = TypeVar("T")

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


class Saved(Generic[T]):
    """What `submit` returns when the service ran: its result (which may be None)."""

    __slots__ = ("result",)

    def __init__(self, result: T) -> None:
        self.result = result


def submit(form: forms.BaseForm, service: Callable[[dict[str, Any]], T], *,
           renamed: dict[str, str] | None = None,
           reraise: tuple[type[Exception], ...] = ()) -> Saved[T] | None:
    """The one form -> service -> error step of a view.

    Validates `form` and calls `service(form.cleaned_data)`. Returns `Saved(result)` when
    the service ran; None when nothing was saved, with the reason on the form: a
    ValidationError beside each field it names, a DomainError (NotPermitted,
    InvalidTransition, Conflict) beside its field when the form has it, else above the
    form. The view answers None with the form again (status 400).

    `renamed` maps the service's argument names to the form's field names where they
    differ (e.g. {"expires_at": "expires_on"}), so each error still stands beside its field.
    `reraise` lists refusals the view answers itself (e.g. warnings still to acknowledge,
    shown beside the form): they propagate instead of landing on the form.
    """
    if not form.is_valid():
        return None
    try:
        return Saved(service(form.cleaned_data))
    except reraise:
        raise
    except ValidationError as exc:
        if renamed and hasattr(exc, "error_dict"):
            exc = ValidationError({renamed.get(k, k): v for k, v in exc.error_dict.items()})
        apply_validation_error(form, exc)
    except DomainError as exc:
        name = (renamed or {}).get(exc.field or "", exc.field or "")
        field = form.fields.get(name)
        # A hidden field (the record's version) cannot show an error: put it above the form.
        shown = field is not None and not field.widget.is_hidden
        form.add_error(name if shown else None, exc.message)
    return None
