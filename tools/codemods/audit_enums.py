#!/usr/bin/env python3
"""Codemod: audit actions and object types as enums at every call site of an audit writer.

Replaces a string literal passed as the audit action or object type of an audit writer
(`audit_record(action="view", object_type="note")`, `audit_view(request, "messages")`, ...)
with its member, `Action.VIEW` / `ObjectType.NOTE` from `openiop.audit.vocabulary`, and
imports what it used. Literals inside a conditional expression are replaced too
(`"print" if fmt == "print" else "export"`), never those in its test.

Idempotent: a second run changes nothing. Re-run it after merging a branch that adds audit
calls:

    PYTHONPATH=src .venv/bin/python tools/codemods/audit_enums.py src tests

`--check` changes nothing and exits 1 when something would change; `--list` prints every
literal found with its member. A line ending in the comment `# audit-enums: keep` is left
as it is (a test that passes a string on purpose, to see it refused). A literal that is no member (a new object type) is reported
with its place and left alone, and the exit status is 2: add the value to `ObjectType` in
src/openiop/audit/vocabulary.py (its stored value exactly) and run the codemod again.

No libcst in the project's environment: the edit is made on the source text at the
positions `ast` gives, and each edited file is parsed again and compared, node for node,
with the original in which the literals were swapped for the members (so nothing else
moved). Import order is left to `ruff check --fix --select I` (run here when ruff is found).
"""

from __future__ import annotations

import argparse
import ast
import copy
import pathlib
import shutil
import subprocess
import sys
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from openiop.audit.vocabulary import Action, ObjectType  # noqa: E402

VOCABULARY_MODULE = "openiop.audit.vocabulary"


@dataclass(frozen=True)
class Slot:
    """Where a writer takes an audit value: its keyword, its position (if it may be passed
    positionally) and the prefix the writer used to put in front of it."""

    keyword: str
    position: int | None = None
    prefix: str = ""


# The audit writers and the wrappers that pass a value straight to one. Keep in step with
# the functions typed `Action` / `ObjectType` (tests/audit/test_vocabulary.py checks the
# same table's calls for literals).
ACTION_SLOTS: dict[str, Slot] = {
    "audit_record": Slot("action"),
    "get_participant_for_user": Slot("audit_action"),
    "_audit_note": Slot("action", 2),
    "note_export": Slot("action"),
    "plan_export": Slot("action"),
    "safety_plan_export": Slot("action"),
}
OBJECT_TYPE_SLOTS: dict[str, Slot] = {
    "audit_record": Slot("object_type"),
    "audit_views": Slot("object_type"),
    "audit_list_view": Slot("object_type"),
    "get_participant_for_user": Slot("object_type"),
    "disclosure": Slot("object_type"),
    "audit_refusal": Slot("object_type"),
    "deny": Slot("object_type"),
    "own_object": Slot("object_type", 3),
    "audit_view": Slot("object_type", 1),
    # api.disclose.release(object_type="notes") stored "api.notes"; it now takes the member.
    "release": Slot("object_type", prefix="api."),
    "release_one": Slot("object_type", prefix="api."),
}
ENUMS = {"action": (Action, ACTION_SLOTS), "object_type": (ObjectType, OBJECT_TYPE_SLOTS)}


def callee(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def slot_value(node: ast.Call, slot: Slot) -> ast.expr | None:
    for kw in node.keywords:
        if kw.arg == slot.keyword:
            return kw.value
    if slot.position is not None and len(node.args) > slot.position:
        arg = node.args[slot.position]
        return None if isinstance(arg, ast.Starred) else arg
    return None


def literals(expr: ast.expr) -> list[ast.Constant]:
    """The string literals that are the value: the expression itself, or the branches of a
    conditional expression (not its test)."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr]
    if isinstance(expr, ast.IfExp):
        return literals(expr.body) + literals(expr.orelse)
    return []


@dataclass(frozen=True)
class Found:
    path: pathlib.Path
    node: ast.Constant
    enum_name: str
    value: str
    member: str | None  # None: not a member


KEEP = "# audit-enums: keep"


def find(path: pathlib.Path, tree: ast.AST, lines: list[str] | None = None) -> list[Found]:
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = callee(node)
        for enum, slots in ENUMS.values():
            slot = slots.get(name or "")
            if slot is None:
                continue
            expr = slot_value(node, slot)
            for lit in literals(expr) if expr is not None else []:
                if lines is not None and lines[lit.lineno - 1].rstrip().endswith(KEEP):
                    continue
                value = slot.prefix + lit.value
                try:
                    member = enum(value).name
                except ValueError:
                    member = None
                out.append(Found(path, lit, enum.__name__, value, member))
    return out


def module_binds(tree: ast.Module, name: str) -> bool:
    """Whether `name` is imported at the module's top level (anywhere in its body)."""
    return any(isinstance(stmt, ast.ImportFrom)
               and any((a.asname or a.name) == name for a in stmt.names)
               for stmt in tree.body)


def add_import(source: str, tree: ast.Module, names: set[str]) -> str:
    missing = sorted(n for n in names if not module_binds(tree, n))
    if not missing:
        return source
    line = f"from {VOCABULARY_MODULE} import {', '.join(missing)}\n"
    imports = [s for s in tree.body if isinstance(s, ast.Import | ast.ImportFrom)
               and not (isinstance(s, ast.ImportFrom) and s.module == "__future__")]
    lines = source.splitlines(keepends=True)
    if imports:
        after = imports[-1].end_lineno or imports[-1].lineno
    else:
        # After the docstring and `from __future__` imports, if any.
        after = 0
        for stmt in tree.body:
            if (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
                    and isinstance(stmt.value.value, str)) or (
                    isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"):
                after = stmt.end_lineno or stmt.lineno
            else:
                break
        line = "\n" + line
    lines.insert(after, line)
    return "".join(lines)


def rewrite(path: pathlib.Path, source: str, found: list[Found]) -> str:
    edits = [f for f in found if f.member is not None]
    if not edits:
        return source
    lines = source.encode().splitlines(keepends=True)
    for f in sorted(edits, key=lambda f: (f.node.lineno, f.node.col_offset), reverse=True):
        n = f.node
        start, end = n.lineno - 1, (n.end_lineno or n.lineno) - 1
        text = f"{f.enum_name}.{f.member}".encode()
        head = lines[start][: n.col_offset]
        tail = lines[end][n.end_col_offset:]
        lines[start: end + 1] = [head + text + tail]
    new = b"".join(lines).decode()
    new = add_import(new, ast.parse(new), {f.enum_name for f in edits})
    verify(path, source, new, edits)
    return new


class _Swap(ast.NodeTransformer):
    def __init__(self, edits: list[Found]) -> None:
        self.at = {(f.node.lineno, f.node.col_offset): f for f in edits}

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        f = self.at.get((node.lineno, node.col_offset))
        if f is None or node.value != f.node.value:
            return node
        return ast.Attribute(ast.Name(f.enum_name, ast.Load()), f.member, ast.Load())


def _dump(tree: ast.AST) -> str:
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


def verify(path: pathlib.Path, old: str, new: str, edits: list[Found]) -> None:
    """The new module is the old one with the literals swapped and the import added."""
    expected = _Swap(edits).visit(copy.deepcopy(ast.parse(old)))
    got = ast.parse(new)
    got.body = [s for s in got.body if not (isinstance(s, ast.ImportFrom)
                                            and s.module == VOCABULARY_MODULE)]
    expected.body = [s for s in expected.body if not (isinstance(s, ast.ImportFrom)
                                                      and s.module == VOCABULARY_MODULE)]
    if _dump(expected) != _dump(got):
        raise SystemExit(f"{path}: the rewrite changed more than the literals; nothing written")


def files(paths: list[str]) -> list[pathlib.Path]:
    out: list[pathlib.Path] = []
    for p in map(pathlib.Path, paths):
        out.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p])
    return [p for p in out if "migrations" not in p.parts
            and p.resolve() != (ROOT / "tools/codemods/audit_enums.py").resolve()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=["src", "tests"])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if needed")
    parser.add_argument("--list", action="store_true", help="print every literal found")
    args = parser.parse_args(argv)
    changed, unknown = [], []
    for path in files(args.paths):
        source = path.read_text()
        tree = ast.parse(source)
        found = find(path, tree, source.splitlines())
        if args.list:
            for f in found:
                print(f"{path}:{f.node.lineno}: {f.enum_name} {f.value!r} -> {f.member}")
        unknown += [f for f in found if f.member is None]
        new = rewrite(path, source, found)
        if new != source:
            changed.append(path)
            if not args.check:
                path.write_text(new)
    for f in unknown:
        print(f"{f.path}:{f.node.lineno}: {f.value!r} is no {f.enum_name} member: add it to "
              f"src/openiop/audit/vocabulary.py or pass a member", file=sys.stderr)
    for path in changed:
        print(("would change " if args.check else "changed ") + str(path))
    ruff = shutil.which("ruff") or str(ROOT / ".venv/bin/ruff")
    if changed and not args.check and pathlib.Path(ruff).exists():
        subprocess.run([ruff, "check", "--quiet", "--fix", "--select", "I",  # noqa: S603
                        *map(str, changed)], check=False)
    if unknown:
        return 2
    return 1 if (changed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
