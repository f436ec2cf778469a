"""The Python that `.ci/run` hands to `django shell -c` runs against the code as it is.

CI once failed after a minute because its audit smoke step still passed the strings
'view'/'ci' to `audit_record`, which (since the audit vocabulary) refuses anything but an
`Action`/`ObjectType` member. The script is shell, so neither ruff, mypy nor the codemod
saw it; this test runs each snippet in the test database instead.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from openiop.audit.models import AccessEvent

CI_SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "run"


def shell_snippets(script: str) -> list[str]:
    """Every argument of `django shell -c` in a shell script (line continuations joined)."""
    joined = script.replace("\\\n", " ")
    snippets = []
    for line in joined.splitlines():
        match = re.search(r"django shell -c\s+(.*)$", line)
        if match:
            snippets.append(shlex.split(match.group(1))[0])
    return snippets


def test_the_ci_script_has_its_audit_smoke_step():
    snippets = shell_snippets(CI_SCRIPT.read_text())
    assert any("audit_record" in snippet for snippet in snippets), snippets


@pytest.mark.django_db
@pytest.mark.parametrize("snippet", shell_snippets(CI_SCRIPT.read_text()))
def test_each_ci_shell_snippet_runs(snippet):
    before = AccessEvent.objects.count()
    exec(compile(snippet, ".ci/run", "exec"), {})  # noqa: S102 - our own CI script
    if "audit_record" in snippet:
        assert AccessEvent.objects.count() == before + 1
