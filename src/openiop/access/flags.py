"""The chart: its header shows every emergency-access grant in force (who, until when, why),
and a tab the access policy refuses is not shown (links a user cannot follow are not shown;
the Notes and Treatment plan tabs stay, they offer to break the glass)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.utils import timezone

from openiop.core.chart import Flag

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.care.models import EpisodeOfCare
    from openiop.participants.models import Participant


def break_glass_flags(participant: Participant, episode: EpisodeOfCare | None) -> list[Flag]:
    from .models import BreakGlassGrant

    grants = (BreakGlassGrant.objects.active(timezone.now()).filter(participant=participant)
              .select_related("actor").order_by("expires_at", "pk"))
    return [Flag(f"Emergency access: {g.actor.get_full_name() or g.actor.username} until "
                 f"{timezone.localtime(g.expires_at):%H:%M}", "danger",
                 f"Reason: {g.reason}") for g in grants]


def tab_filter(user: User, participant: Participant) -> Callable[[str], bool]:
    from .decisions import decide, relationships
    from .policy import GATE_PAGES, PAGE_KINDS

    rels: list[set] = []
    part2: list[bool] = []
    answers: dict[str, bool] = {}

    def keep(url_name: str) -> bool:
        kind = PAGE_KINDS.get(url_name)
        if kind is None or url_name in GATE_PAGES:
            return True
        if kind not in answers:
            if not rels:
                rels.append(relationships(user, participant))
            answers[kind] = decide(user, kind, participant, rels=rels[0], cache=part2)
        return answers[kind]

    return keep
