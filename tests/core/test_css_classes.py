"""Every class a template uses is styled by the product's stylesheet (or is a named hook).

The plan page once used `<div class="card stat"><span>…</span><strong>…</strong>` while
app.css styles `.stat .value` / `.stat .label`, so label, value and caption ran together.
This test parses each template's `class="..."` values (expanding `{% if %}` branches and
treating `{{ variable }}` parts as a prefix, e.g. `badge-{{ level }}` needs some `.badge-*`)
and requires each class to be defined in app.css, in the stylesheet of the template's own
app (finder.css for the finder pages), or in the allow-list below with its reason.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "openiop"
APP_CSS = SRC / "static" / "openiop" / "app.css"

# Classes no stylesheet needs to define: hooks for scripts, htmx, tests and print, or
# markers read by vendored code. Each with the reason it exists.
ALLOWED: dict[str, str] = {
    "messages": "base.html wrapper around the flash alerts; the .alert children carry the look",
    "entry": "group-note entry fieldset; selector for tests/browser/test_notes.py",
    "attendance-form": "roster row form swapped by htmx; hook for tests and scripts",
    "checkin-form": "portal check-in form; hook (the .question cards carry the look)",
    "module-doc": "curriculum module article; hook beside .doc, which carries the look",
    "safety-plan": "safety-plan document; hook beside .doc, which carries the look",
    "plan-problem": "treatment-plan problem card; hook beside .card",
    "htmx-indicator": "htmx toggles it during requests (styled in app.css as well)",
    "htmx-request": "added by htmx during requests",
}

_TAG = re.compile(r"(\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\})", re.S)
_CLASS_ATTR = re.compile(r"""\bclass=(?:"([^"]*)"|'([^']*)')""", re.S)
_SELECTOR_CLASS = re.compile(r"\.(-?[_a-zA-Z][-_a-zA-Z0-9]*)")
DYNAMIC = "\x00"


def defined_classes(css_text: str) -> set[str]:
    text = re.sub(r"/\*.*?\*/", "", css_text, flags=re.S)
    # A selector (or an @media prelude) is the text just before each "{"; declarations
    # such as `margin: .5rem` never are, so their numbers are not read as classes.
    preludes = re.findall(r"([^{};]*)\{", text)
    return {name for prelude in preludes for name in _SELECTOR_CLASS.findall(prelude)}


def _expand(tokens: list[str], pos: int = 0, stop: tuple[str, ...] = ()) -> tuple[list[str], int, str]:
    """Alternatives of the template text from tokens[pos:] up to a tag in `stop`."""
    variants = [""]
    while pos < len(tokens):
        tok = tokens[pos]
        if tok.startswith("{%"):
            name = tok[2:-2].split()[0] if tok[2:-2].split() else ""
            if name in stop:
                return variants, pos, name
            if name == "if":
                branches: list[str] = []
                pos += 1
                has_else = False
                while True:
                    part, pos, ended = _expand(tokens, pos, ("elif", "else", "endif"))
                    branches.extend(part)
                    if ended == "else":
                        has_else = True
                    if ended == "endif" or pos >= len(tokens):
                        break
                    pos += 1
                if not has_else:
                    branches.append("")
                variants = [v + b for v in variants for b in branches]
            elif name in {"block", "endblock", "with", "endwith", "for", "endfor", "empty",
                          "spaceless", "endspaceless", "autoescape", "endautoescape"}:
                pass  # keep what is between them
            else:
                variants = [v + DYNAMIC for v in variants]  # {% url %}, {% cycle %}…
        elif tok.startswith("{{"):
            variants = [v + DYNAMIC for v in variants]
        elif tok.startswith("{#"):
            pass
        else:
            variants = [v + tok for v in variants]
        pos += 1
    return variants, pos, ""


def class_names(attr_value: str) -> set[str]:
    tokens = [t for t in _TAG.split(attr_value) if t]
    variants, _, _ = _expand(tokens)
    names: set[str] = set()
    for v in variants:
        names.update(v.split())
    return names


@cache
def template_classes() -> list[tuple[Path, str]]:
    found = []
    for path in sorted(SRC.rglob("templates/**/*.html")):
        text = path.read_text(encoding="utf-8")
        for m in _CLASS_ATTR.finditer(text):
            for name in sorted(class_names(m.group(1) if m.group(1) is not None else m.group(2))):
                found.append((path, name))
    return found


def stylesheet_for(path: Path) -> set[str]:
    """app.css plus the stylesheets under the template's own app's static folder."""
    classes = defined_classes(APP_CSS.read_text(encoding="utf-8"))
    app_dir = SRC / path.relative_to(SRC).parts[0]
    static = app_dir / "static"
    if static.is_dir() and app_dir != SRC / "static":
        for css in static.rglob("*.css"):
            classes |= defined_classes(css.read_text(encoding="utf-8"))
    return classes


def is_styled(name: str, defined: set[str]) -> bool:
    if DYNAMIC not in name:
        return name in defined or name in ALLOWED
    prefix = name.split(DYNAMIC, 1)[0]
    if not prefix:
        return True  # the whole class comes from a variable
    return any(d.startswith(prefix) for d in defined)


def test_the_expander_reads_template_branches_and_variables():
    assert class_names('badge {% if a %}badge-ok{% elif b %}badge-warn{% endif %}') == {
        "badge", "badge-ok", "badge-warn"}
    assert class_names("badge badge-{% if x %}danger{% else %}warn{% endif %}") == {
        "badge", "badge-danger", "badge-warn"}
    assert class_names("wg-event kind-{{ e.kind }}") == {"wg-event", f"kind-{DYNAMIC}"}
    assert class_names("{% block main_class %}container{% endblock %}") == {"container"}
    assert defined_classes(".a .b > .c, .d:hover { margin: .5rem; } @media (x) { .e { x: 1 } }") == {
        "a", "b", "c", "d", "e"}


def test_it_finds_a_class_no_stylesheet_defines():
    defined = defined_classes(".stat .value { } .stat .label { }")
    assert is_styled("value", defined)
    assert not is_styled("card-stat-caption", defined)
    assert not is_styled(f"tone-{DYNAMIC}", defined)


def test_every_template_class_is_defined_in_the_stylesheet_or_allow_listed():
    found = template_classes()
    assert len(found) > 500, "the template scan found too few classes; is the parser broken?"
    by_app: dict[str, set[str]] = {}
    missing = []
    for path, name in found:
        app = path.relative_to(SRC).parts[0]
        if app not in by_app:  # not setdefault: that would re-read the stylesheets per class
            by_app[app] = stylesheet_for(path)
        defined = by_app[app]
        if not is_styled(name, defined):
            missing.append(f"{path.relative_to(SRC)}: .{name.replace(DYNAMIC, '{{…}}')}")
    assert not missing, "classes no stylesheet defines:\n" + "\n".join(sorted(set(missing)))


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_allow_listed_classes_are_still_used_and_give_a_reason(name):
    assert len(ALLOWED[name]) > 15
    used = {n for _, n in template_classes()}
    if name.startswith("htmx-"):
        return  # set by htmx at run time, not written in templates
    assert name in used, f"{name} is allow-listed but no template uses it any more"
