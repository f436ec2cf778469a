"""One access decision: who may see or do what with a participant's records.

`require(actor, kind, participant_or_obj, action="view")` and `scope(queryset, actor, kind)`
(in `decisions`), read the declared table in `policy`. Imported lazily so the app package
can load before the models.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Kind",
    "active_grant",
    "allows",
    "is_care_team",
    "require",
    "require_organization",
    "same_organization",
    "scope",
]


def __getattr__(name: str) -> Any:
    if name == "Kind":
        from .policy import Kind

        return Kind
    if name in __all__:
        from . import decisions

        return getattr(decisions, name)
    raise AttributeError(name)
