"""The participant chart's header flags and tabs.

Apps contribute header flags by registering a provider in their AppConfig.ready():

    from openiop.core.chart import register_flag_provider
    register_flag_provider(my_flags)   # my_flags(participant, episode) -> list[Flag]

and blocks at the top of the overview tab with register_overview_panel(fn), where
fn(request, participant, episode) returns a Panel or None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from django.urls import NoReverseMatch, reverse

from openiop.accounts.permissions import Perm, has_perm

from .navigation import CHART_TABS

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser


@dataclass(frozen=True)
class Flag:
    label: str
    level: str = "info"  # info | warn | danger
    detail: str = ""
    url: str = ""  # the badge links here for users with `url_perm`
    url_perm: Perm | None = None


FlagProvider = Callable[[Any, Any], list[Flag]]
_FLAG_PROVIDERS: list[FlagProvider] = []


def register_flag_provider(provider: FlagProvider) -> None:
    if provider not in _FLAG_PROVIDERS:
        _FLAG_PROVIDERS.append(provider)


def _base_flags(participant: Any, episode: Any) -> list[Flag]:
    flags: list[Flag] = []
    if episode is None:
        flags.append(Flag("No active episode", "info"))
    elif episode.level_mismatch:
        flags.append(
            Flag(
                f"Authorized {episode.authorized_level_of_care} differs from clinical "
                f"{episode.level_of_care}",
                "warn",
                "The payer authorized a different level of care than the team recommends.",
            )
        )
    if participant.age < 18:
        flags.append(Flag("Minor", "info"))
    return flags


@dataclass(frozen=True)
class Panel:
    """A block at the top of the chart's overview (e.g. the face sheet): a template and its
    context, rendered as `{% include panel.template with data=panel.data %}`."""

    template: str
    data: dict[str, Any]


PanelProvider = Callable[[Any, Any, Any], "Panel | None"]  # (request, participant, episode)
_PANEL_PROVIDERS: list[PanelProvider] = []


def register_overview_panel(provider: PanelProvider) -> None:
    if provider not in _PANEL_PROVIDERS:
        _PANEL_PROVIDERS.append(provider)


def overview_panels(request: Any, participant: Any, episode: Any) -> list[Panel]:
    panels = [provider(request, participant, episode) for provider in _PANEL_PROVIDERS]
    return [p for p in panels if p is not None]


def chart_flags(participant: Any, episode: Any, user: AbstractBaseUser | AnonymousUser | None = None) -> list[Flag]:
    """Every provider's flags; a flag's link is dropped for a user who could not follow it."""
    flags = _base_flags(participant, episode)
    for provider in _FLAG_PROVIDERS:
        flags.extend(provider(participant, episode))
    return [f if not f.url or (f.url_perm is None or has_perm(user, f.url_perm))
            else replace(f, url="") for f in flags]


# A tab filter: fn(user, participant) -> (url_name -> bool), registered by the access app so
# that a tab the access policy refuses is not shown (core does not import the policy).
TabFilter = Callable[[Any, Any], Callable[[str], bool]]
_TAB_FILTERS: list[TabFilter] = []


def register_tab_filter(factory: TabFilter) -> None:
    if factory not in _TAB_FILTERS:
        _TAB_FILTERS.append(factory)


def chart_tabs(user: AbstractBaseUser | AnonymousUser, participant: Any, active: str) -> list[dict[str, object]]:
    tabs = []
    filters = [factory(user, participant) for factory in _TAB_FILTERS]
    for item in CHART_TABS:
        if not item.allowed(user):
            continue
        if not all(keep(item.url_name) for keep in filters):
            continue
        try:
            url = reverse(item.url_name, kwargs={"code": participant.code})
        except NoReverseMatch:
            continue
        tabs.append({"label": item.label, "url": url, "active": item.url_name == active})
    return tabs
