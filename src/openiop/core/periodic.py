"""The periodic-job registry: what runs on a schedule, declared by the apps.

Two ways to declare a periodic job, both collected by `registered()`:

- call `register(name, every, "openiop.<app>.tasks.function")` (e.g. in AppConfig.ready());
- or put a module-level list in `openiop/<app>/tasks.py`:
  `PERIODIC = [("safety-escalation", timedelta(minutes=1), "openiop.dashboard.tasks.escalate")]`.

The target is a dotted path to a plain function or a django-tasks `@task`; it is called with
no arguments (or with `job=` / `progress=` when it declares those parameters). The scheduler
(`openiop.jobs.scheduler`, run by `openiop worker`) enqueues each due job exactly once per
interval however many workers run, and each run appears on the jobs page.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    task: str  # dotted path

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 100:
            raise ValueError("A periodic job needs a name of 1 to 100 characters.")
        if self.every < timedelta(seconds=10):
            raise ValueError(f"Periodic job {self.name!r}: the interval must be 10 seconds or more.")
        if "." not in self.task:
            raise ValueError(f"Periodic job {self.name!r}: the task must be a dotted path.")


_REGISTRY: dict[str, Periodic] = {}


def register(name: str, every: timedelta, task: str) -> Periodic:
    """Declare a periodic job; declaring the same name twice with another target fails."""
    job = Periodic(name, every, task)
    existing = _REGISTRY.get(name)
    if existing is not None and existing != job:
        raise ValueError(f"Periodic job {name!r} is already registered as {existing}.")
    _REGISTRY[name] = job
    return job


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def _from_task_modules() -> list[Periodic]:
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("openiop."):
            continue
        module_name = f"{config.name}.tasks"
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        for name, every, task in getattr(module, "PERIODIC", ()):
            found.append(Periodic(name, every, task))
    return found


def registered() -> list[Periodic]:
    """Every declared periodic job, by name (the registry wins over a module's list)."""
    jobs = {p.name: p for p in _from_task_modules()}
    jobs.update(_REGISTRY)
    return [jobs[name] for name in sorted(jobs)]
