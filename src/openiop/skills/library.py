"""The module library and skills catalog as data (skills/data/library.json).

`load_library()` reads and checks the file without the database; `library_sync()` upserts
it (used by the data migration with historical models, and by the demo, which runs after
test databases may have been flushed).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

LIBRARY_PATH = Path(__file__).resolve().parent / "data" / "library.json"
REQUIRED_MODULE_KEYS = ("slug", "title", "topic", "objectives", "outline", "handout", "homework")


class LibraryError(ValueError):
    """The library file is malformed."""


@cache
def load_library(path: Path = LIBRARY_PATH) -> dict[str, Any]:
    """The parsed library; raises LibraryError naming the entry at fault."""
    data = json.loads(path.read_text(encoding="utf-8"))
    topics = data.get("topics", {})
    skill_slugs = {s["slug"] for s in data.get("skills", [])}
    seen: set[str] = set()
    for module in data.get("modules", []):
        missing = [k for k in REQUIRED_MODULE_KEYS if not module.get(k)]
        if missing:
            raise LibraryError(f"module {module.get('slug', '?')}: missing {', '.join(missing)}")
        if module["slug"] in seen:
            raise LibraryError(f"module {module['slug']}: duplicate slug")
        seen.add(module["slug"])
        if module["topic"] not in topics:
            raise LibraryError(f"module {module['slug']}: unknown topic {module['topic']}")
        unknown = set(module.get("skills", [])) - skill_slugs
        if unknown:
            raise LibraryError(f"module {module['slug']}: unknown skills {sorted(unknown)}")
    return data


def library_sync(module_model: Any = None, skill_model: Any = None) -> tuple[int, int]:
    """Create or update every module and skill from the file; return (modules, skills).

    Existing rows keep their code (UUID), so links from sessions and homework survive.
    """
    if module_model is None or skill_model is None:
        from .models import Module, Skill

        module_model, skill_model = Module, Skill
    data = load_library()
    source = data.get("source", "")
    skills = {}
    for entry in data["skills"]:
        skill, _ = skill_model.objects.update_or_create(
            slug=entry["slug"],
            defaults={"name": entry["name"], "category": entry["category"],
                      "description": entry["description"], "is_active": True},
        )
        skills[entry["slug"]] = skill
    for entry in data["modules"]:
        module, _ = module_model.objects.update_or_create(
            slug=entry["slug"],
            defaults={
                "title": entry["title"], "topic": entry["topic"],
                "audience": entry.get("audience", "all"), "minutes": entry.get("minutes", 60),
                "objectives": entry["objectives"], "outline": entry["outline"],
                "handout": entry["handout"], "homework": entry["homework"],
                "source": source[:200], "is_active": True,
            },
        )
        for slug in entry.get("skills", []):
            skills[slug].modules.add(module)
    return len(data["modules"]), len(data["skills"])
