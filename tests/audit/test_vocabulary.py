"""The audit trail speaks one vocabulary: every writer takes `Action` / `ObjectType` members,
refuses a string at run time, no string literal reaches a writer in the source, and each
object type the code builds from a name (FHIR resources, check-ins, family scopes, printed
kinds, admin pages) is one the enum knows."""

from __future__ import annotations

import ast
import functools
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from openiop.audit.models import AccessEvent
from openiop.audit.services import audit_record, audit_views
from openiop.audit.vocabulary import ADMIN_PAGE_PREFIX, Action, ObjectType

ROOT = Path(__file__).resolve().parents[2]
CODEMOD = ROOT / "tools" / "codemods" / "audit_enums.py"


@functools.cache
def _codemod():
    spec = importlib.util.spec_from_file_location("audit_enums", CODEMOD)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _sources():
    for path in sorted((ROOT / "src").rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


# --- at run time -----------------------------------------------------------------------


@pytest.mark.django_db
def test_audit_record_refuses_a_string_even_a_valid_value(world):
    with pytest.raises(TypeError, match="Action member"):
        audit_record(actor=world.clinician, action="view", object_type=ObjectType.PARTICIPANT,  # audit-enums: keep
                     participant=world.participant)
    with pytest.raises(TypeError, match="ObjectType member"):
        audit_record(actor=world.clinician, action=Action.VIEW, object_type="participant",  # audit-enums: keep
                     participant=world.participant)
    with pytest.raises(TypeError, match="ObjectType member"):
        audit_record(actor=world.clinician, action=Action.VIEW, object_type="no_such_thing",  # audit-enums: keep
                     participant=world.participant)
    with pytest.raises(TypeError, match="ObjectType member"):
        audit_views(actor=world.clinician, participants=[world.participant],
                    object_type="participant")  # audit-enums: keep
    assert not AccessEvent.objects.exists()


@pytest.mark.django_db
def test_a_member_is_stored_as_its_plain_value(world):
    event = audit_record(actor=world.clinician, action=Action.VIEW,
                         object_type=ObjectType.FHIR_EXPORT, participant=world.participant)
    stored = AccessEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.object_type) == ("view", "fhir.$export")
    assert type(event.object_type) is str and type(event.action) is str  # hashed as stored
    assert stored.compute_hash() == event.hash


def test_a_name_that_is_no_member_is_refused_when_converted():
    with pytest.raises(ValueError):
        ObjectType("fhir.NoSuchResource")
    with pytest.raises(ValueError):
        ObjectType(ADMIN_PAGE_PREFIX)  # the family needs a URL name
    with pytest.raises(ValueError):
        ObjectType(ADMIN_PAGE_PREFIX + "x" * 60)  # longer than the column


def test_admin_pages_are_a_family_of_their_own():
    page = ObjectType.admin_page("audit_accessevent_changelist")
    assert isinstance(page, ObjectType)
    assert page == "admin:audit_accessevent_changelist"
    assert ObjectType.admin_page(None) == "admin:page"
    assert len(ObjectType.admin_page("x" * 100)) == 60


def test_every_value_fits_its_column():
    action_len = AccessEvent._meta.get_field("action").max_length
    type_len = AccessEvent._meta.get_field("object_type").max_length
    assert max(len(v) for v in Action.values) <= action_len
    assert max(len(v) for v in ObjectType.values) <= type_len
    assert len(set(ObjectType.values)) == len(ObjectType)


# --- the object types built from a name ------------------------------------------------


def test_every_fhir_resource_has_its_object_type():
    from openiop.fhir.engine import fhir_object_type
    from openiop.fhir.registry import SPECS

    assert {fhir_object_type(spec) for spec in SPECS.values()} == {
        ObjectType(f"fhir.{name}") for name in SPECS}


def test_every_portal_check_in_has_its_object_type():
    from openiop.portal.checkins import PORTAL_INSTRUMENTS

    for code in PORTAL_INSTRUMENTS:
        assert ObjectType(f"checkin_{code}").value == f"checkin_{code}"


def test_every_family_scope_has_its_object_type():
    from openiop.participants.consents import FAMILY_SCOPES

    for scope in FAMILY_SCOPES:
        assert ObjectType(scope).value == scope


def test_every_printed_kind_has_its_object_type():
    """`clinical.pdf.print_release(kind=...)` audits "print.<kind>"."""
    kinds = set()
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and _codemod().callee(node) == "print_release":
                kind = next((k.value for k in node.keywords if k.arg == "kind"), None)
                assert isinstance(kind, ast.Constant), f"{path}:{node.lineno}: name the kind"
                kinds.add(kind.value)
    assert kinds, "print_release is no longer called: update this test"
    for kind in kinds:
        ObjectType(f"print.{kind}")


# --- in the source ---------------------------------------------------------------------


def _strings(expr: ast.expr) -> list[ast.expr]:
    """String literals, f-strings and string concatenations that are the value (or a
    branch of a conditional expression that is)."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr]
    if isinstance(expr, ast.JoinedStr):
        return [expr]
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add | ast.Mod):
        return [expr]
    if isinstance(expr, ast.IfExp):
        return _strings(expr.body) + _strings(expr.orelse)
    if isinstance(expr, ast.BoolOp):
        return [s for value in expr.values for s in _strings(value)]
    return []


def test_no_string_reaches_an_audit_writer_in_the_source():
    """A literal passed as the action or object type of an audit writer (or a wrapper that
    hands it on) fails here; run tools/codemods/audit_enums.py to replace it."""
    codemod = _codemod()
    found = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            for enum, slots in codemod.ENUMS.values():
                slot = slots.get(codemod.callee(node) or "")
                expr = codemod.slot_value(node, slot) if slot else None
                for bad in _strings(expr) if expr is not None else []:
                    found.append(f"{path.relative_to(ROOT)}:{bad.lineno}: {ast.unparse(bad)} "
                                 f"as {enum.__name__}")
    assert found == []


def test_the_scan_sees_a_literal(tmp_path):
    """The scan above is not blind: it finds each shape of literal in a sample."""
    codemod = _codemod()
    sample = ast.parse(
        'audit_record(actor=a, action="view", object_type=f"fhir.{x}")\n'
        'audit_view(request, "messages")\n'
        'get_participant_for_user(u, c, audit_action="view" if ok else None)\n')
    hits = []
    for node in ast.walk(sample):
        if isinstance(node, ast.Call):
            for _enum, slots in codemod.ENUMS.values():
                slot = slots.get(codemod.callee(node) or "")
                expr = codemod.slot_value(node, slot) if slot else None
                hits += _strings(expr) if expr is not None else []
    assert len(hits) == 4


# --- the codemod -----------------------------------------------------------------------


SAMPLE = '''"""A module."""

from __future__ import annotations

from openiop.audit.services import audit_record


def f(request, ok):
    audit_record(actor=None, action="view" if ok else "change", object_type="note")
    audit_view(request, "messages")
    release(request, None, [], object_type="notes")
    audit_view(request, "portal_home")  # audit-enums: keep
'''


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CODEMOD), *args],
                          capture_output=True, text=True, cwd=ROOT, check=False)


def test_the_codemod_replaces_literals_and_a_second_run_changes_nothing(tmp_path):
    module = tmp_path / "sample.py"
    module.write_text(SAMPLE)
    assert _run("--check", str(module)).returncode == 1
    assert _run(str(module)).returncode == 0
    text = module.read_text()
    assert "from openiop.audit.vocabulary import Action, ObjectType" in text
    assert "action=Action.VIEW if ok else Action.CHANGE, object_type=ObjectType.NOTE" in text
    assert 'audit_view(request, ObjectType.MESSAGES)' in text
    assert "object_type=ObjectType.API_NOTES" in text  # api.disclose.release's prefix
    assert 'audit_view(request, "portal_home")  # audit-enums: keep' in text
    again = _run("--check", str(module))
    assert again.returncode == 0 and module.read_text() == text


def test_the_codemod_reports_a_new_object_type_and_leaves_it(tmp_path):
    module = tmp_path / "sample.py"
    module.write_text('audit_record(actor=None, action="view", object_type="brand_new")\n')
    result = _run(str(module))
    assert result.returncode == 2
    assert "'brand_new' is no ObjectType member" in result.stderr
    assert 'object_type="brand_new"' in module.read_text()
    assert "action=Action.VIEW" in module.read_text()
