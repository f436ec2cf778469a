"""What the scheduling services share."""

from __future__ import annotations

from typing import Any

from openiop.core.exceptions import NotPermitted


def same_org(actor: Any, organization_id: int) -> None:
    """Refuse a write on another organization's rows."""
    if getattr(actor, "staff_organization_id", None) != organization_id:
        raise NotPermitted("That belongs to another organization.")
