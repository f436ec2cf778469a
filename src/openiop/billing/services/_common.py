"""Helpers shared by the billing services."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, overload

from django.core.exceptions import ValidationError

from openiop.accounts.models import User
from openiop.core.exceptions import NotPermitted


def same_org(actor: User, organization_id: int) -> None:
    if getattr(actor, "staff_organization_id", None) != organization_id:
        raise NotPermitted("This record belongs to another organization.")


@overload
def require_date(value: Any, field: str, *, required: Literal[True] = ...) -> date: ...
@overload
def require_date(value: Any, field: str, *, required: bool) -> date | None: ...
def require_date(value: Any, field: str, *, required: bool = True) -> date | None:
    if value in (None, ""):
        if required:
            raise ValidationError({field: "Enter a date."})
        return None
    if not isinstance(value, date):
        try:
            return date.fromisoformat(str(value))
        except ValueError as exc:
            raise ValidationError({field: "Enter a date as YYYY-MM-DD."}) from exc
    return value


def text(value: Any, field: str, *, max_length: int, required: bool = False) -> str:
    result = str(value or "").strip()
    if required and not result:
        raise ValidationError({field: "This field is required."})
    if len(result) > max_length:
        raise ValidationError({field: f"Use at most {max_length} characters."})
    return result
