"""Statuses are named by their model (docs/DEVELOPING.md, "Write path, reads, audit"): no
status string in a filter, a keyword or a comparison outside the module that declares the
choices (`Attendance.ATTENDED`, `Session.Status.CANCELLED`, `NoteStatus.DRAFT`, ...).

The scan flags, in src/ outside models and migrations:
- a keyword `status=`, `<relation>__status=`, `status__in=` (or `__exact`/`__iexact`) whose
  value is a string literal, a list/tuple/set of them, or a conditional choosing one;
- a comparison of `<something>.status` with such a literal (`==`, `!=`, `in`, `not in`).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"

STATUS_KEYWORD = re.compile(r"(^|__)status(__(in|exact|iexact))?$")

# Places where a literal is the right thing, each with why. Keep this short.
ALLOWED: dict[str, str] = {
    # X12 835 CLP02 claim status codes read from a remittance file (ASC X12 005010X221A1):
    # the payer's vocabulary, not a status of ours.
    "src/openiop/billing/services/remittance.py": "X12 claim status codes",
}


def _is_models_module(path: Path) -> bool:
    return path.name == "models.py" or "models" in path.relative_to(SRC).parts[:-1]


def _sources():
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts or _is_models_module(path):
            continue
        if str(path.relative_to(ROOT)) in ALLOWED:
            continue
        yield path


def _literals(expr: ast.expr) -> list[ast.Constant]:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr]
    if isinstance(expr, ast.List | ast.Tuple | ast.Set):
        return [c for e in expr.elts for c in _literals(e)]
    if isinstance(expr, ast.IfExp):
        return _literals(expr.body) + _literals(expr.orelse)
    return []


def _is_status(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Attribute) and expr.attr == "status"


def raw_statuses(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg and STATUS_KEYWORD.search(node.arg):
            found += [(lit.lineno, f"{node.arg}={lit.value!r}") for lit in _literals(node.value)]
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_status(side) for side in sides):
                for side in sides:
                    found += [(lit.lineno, f".status compared with {lit.value!r}")
                              for lit in _literals(side)]
    return found


def test_no_raw_status_string_outside_its_model():
    found = [f"{path.relative_to(ROOT)}:{line}: {what}"
             for path in _sources() for line, what in raw_statuses(ast.parse(path.read_text()))]
    assert found == [], "name the status by its model's constant"


def test_the_scan_sees_each_shape():
    """The scan is not blind: every shape it names is found in a sample, and constants pass."""
    sample = ast.parse(
        'Note.objects.filter(status="signed")\n'
        'qs.exclude(attendance__status__in=["present", "late"])\n'
        'Session(status="completed" if done else "scheduled")\n'
        'if episode.status == "active": pass\n'
        'if row.status in ("late", "left_early"): pass\n'
        'Note.objects.filter(status=NoteStatus.SIGNED, kind="group")\n'
        'qs.filter(status__in=Attendance.ATTENDED)\n'
        'if episode.status == EpisodeOfCare.Status.ACTIVE: pass\n'
        'render(request, "page.html", status=400)\n')
    assert sorted(line for line, _ in raw_statuses(sample)) == [1, 2, 2, 3, 3, 4, 5, 5]


def test_every_allowed_place_exists_and_still_needs_it():
    for path in ALLOWED:
        assert raw_statuses(ast.parse((ROOT / path).read_text())), (
            f"{path} no longer needs its place in ALLOWED: remove it")
