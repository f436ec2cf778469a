"""Templates name statuses only through `status_is`, and only statuses that exist.

`{% if note.status == "singed" %}` renders without a word and is never true: a misspelt
status silently hides a badge or a button. Templates write `note|status_is:"signed"`
instead (core/templatetags/openiop.py), which refuses a status the object's model does not
declare, and this test refuses any other status comparison in a template and any status
named there that no model or status enum declares.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

import pytest
from django.apps import apps
from django.template import Context, Template

from openiop.care.models import EpisodeOfCare
from openiop.core.templatetags.openiop import status_is
from openiop.skills.selectors import Delivery, ModuleStatus

SRC = Path(__file__).resolve().parents[2] / "src" / "openiop"
# A status compared with a string literal: `x.status == "a"`, `!= 'a'`, `in "a b"`.
LITERAL = re.compile(r"""\.status\s*(?:==|!=|\bin\b)\s*["']""")
NAMED = re.compile(r"""\|status_is:(["'])([^"']*)\1""")
# Statuses derived in Python (never stored) that templates may test.
STATUS_ENUMS: tuple[type[Enum], ...] = (Delivery,)


def _templates() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.html") if "/static/" not in str(p))


def declared_statuses() -> set[str]:
    values: set[str] = set()
    for model in apps.get_models():
        field = next((f for f in model._meta.get_fields() if f.name == "status"), None)
        for value, _label in getattr(field, "choices", None) or ():
            values.add(str(value))
    for enum in STATUS_ENUMS:
        values |= {str(member.value) for member in enum}
    return values


def problems_in(text: str, declared: set[str]) -> list[str]:
    found = [f"compares a status with a literal: {m.group(0)!r}"
             for m in LITERAL.finditer(text)]
    for m in NAMED.finditer(text):
        names = m.group(2).split()
        unknown = [n for n in names if n not in declared]
        if unknown or not names:
            found.append(f"names a status no model declares: {unknown or m.group(2)!r}")
    return found


def test_no_template_compares_a_status_with_a_literal_or_names_an_unknown_status():
    declared = declared_statuses()
    problems = [f"{path.relative_to(SRC)}: {problem}"
                for path in _templates()
                for problem in problems_in(path.read_text(encoding="utf-8"), declared)]
    assert not problems, "\n".join(problems)
    # The scan sees the templates that use the filter (it would pass vacuously otherwise).
    assert sum(len(NAMED.findall(p.read_text(encoding="utf-8"))) for p in _templates()) > 30


@pytest.mark.parametrize("text", [
    '{% if note.status == "signed" %}', "{% if note.status != 'draft' %}",
    '{% if r.status in "declined referred_elsewhere" %}', '{% if note|status_is:"singed" %}',
    '{% if r|status_is:"admitted declind" %}', '{% if r|status_is:"" %}',
])
def test_the_scan_catches_a_literal_or_a_misspelt_status(text):
    declared = declared_statuses()
    assert "signed" in declared and "admitted" in declared and "missed" in declared
    assert problems_in(text, declared)
    assert not problems_in('{% if note|status_is:"signed" %}{% if r|status_is:"admitted '
                           'declined" %}', declared)


def test_status_is_refuses_a_status_the_object_cannot_have():
    episode = EpisodeOfCare(status=EpisodeOfCare.Status.WAITLIST)
    assert status_is(episode, "waitlist")
    assert not status_is(episode, "active")
    assert status_is(episode, "active waitlist")
    # "waitlisted" is a referral's and an enrollment's status, not an episode's.
    for wrong in ("waitlisted", "actve", ""):
        with pytest.raises(ValueError, match="not a status of EpisodeOfCare"):
            status_is(episode, wrong)
    with pytest.raises(ValueError):
        Template('{% load openiop %}{% if ep|status_is:"activ" %}x{% endif %}').render(
            Context({"ep": episode}))
    assert Template('{% load openiop %}{% if ep|status_is:"waitlist" %}x{% endif %}').render(
        Context({"ep": episode})) == "x"
    assert not status_is(None, "active")  # an absent object (`assessment` before one exists)


def test_status_is_reads_a_derived_status_from_its_enum():
    row = ModuleStatus(module=None, position=1, status=Delivery.MISSED)  # type: ignore[arg-type]
    assert status_is(row, "missed") and not status_is(row, "covered")
    with pytest.raises(ValueError):
        status_is(row, "mised")
    with pytest.raises(TypeError):
        status_is({"status": "met"}, "met")  # a dict declares no statuses: say which to use
