"""The database's own refusal to change a signed note: triggers on PostgreSQL and SQLite.

A note that left `draft` is a signed legal record. Every column of its row is protected
except the few the signing workflow fills in afterwards (`AFTER_SIGNING`):

- `status` moves forward only: signed -> co-signed -> locked (never back, never to draft);
- `cosigned_by`, `cosigned_at`, `cosigned_as` are written once, by the co-signature;
- `locked_at` is written once, by locking;
- `updated_at` follows those writes.

A locked note is not changed at all, a signed note is not deleted, and its entries, family
members and objectives (the child tables) are not added, changed or removed. The service
layer enforces the same (clinical.services.notes); the triggers are the second line, for raw
SQL and any other code path.

PostgreSQL compares the whole row minus the listed columns (`to_jsonb(NEW) - ...`), so a
column added later is protected without a new trigger. SQLite cannot, so its trigger names
every column the table has when it is installed: a migration that adds a column to
`clinical_note` (or rebuilds the table, which drops SQLite triggers) calls `install()` again.
`tests/clinical/test_signed_row.py` tries every column of the model on both databases.
"""

from __future__ import annotations

from typing import Any

# Columns a signed note may still change, each under the rules above.
AFTER_SIGNING = ("status", "cosigned_by_id", "cosigned_at", "cosigned_as", "locked_at",
                 "updated_at")
COSIGNATURE = ("cosigned_by_id", "cosigned_at", "cosigned_as")
# Status order: a signed note's status never moves back.
STATUS_RANK = {"draft": 0, "signed": 1, "cosigned": 2, "locked": 3}
CHILD_TABLES = ("clinical_groupnoteentry", "clinical_note_family_members",
                "clinical_note_objectives")
REFUSED = "clinical note is signed: change refused (amend it with an addendum)"


def _rank(column: str) -> str:
    cases = " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in STATUS_RANK.items())
    return f"(CASE {column} {cases} ELSE -1 END)"


POSTGRES = f"""
CREATE OR REPLACE FUNCTION clinical_note_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'clinical note % is signed: delete refused', OLD.code
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'draft' THEN
        RETURN NEW;
    END IF;
    IF OLD.status = 'locked'
       OR {_rank("NEW.status")} < {_rank("OLD.status")}
       OR NEW.status = 'draft'
       OR (to_jsonb(NEW) - ARRAY[{", ".join(f"'{c}'" for c in AFTER_SIGNING)}])
          IS DISTINCT FROM (to_jsonb(OLD) - ARRAY[{", ".join(f"'{c}'" for c in AFTER_SIGNING)}])
       OR (OLD.cosigned_at IS NOT NULL AND ({" OR ".join(
           f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in COSIGNATURE)}))
       OR (OLD.locked_at IS NOT NULL AND NEW.locked_at IS DISTINCT FROM OLD.locked_at)
    THEN
        RAISE EXCEPTION 'clinical note % is signed: % refused (amend it with an addendum)',
            OLD.code, TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def _sqlite_columns(schema_editor: Any) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("PRAGMA table_info(clinical_note)")
        return [row[1] for row in cursor.fetchall()]


def sqlite_statements(columns: list[str]) -> list[str]:
    """The SQLite triggers for a `clinical_note` table with these columns."""
    protected = [c for c in columns if c not in AFTER_SIGNING]
    changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in protected)
    cosign = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in COSIGNATURE)
    refuse = f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
    statements = [
        *drop_sqlite(),
        f"""CREATE TRIGGER clinical_note_signed_immutable BEFORE UPDATE ON clinical_note
        FOR EACH ROW WHEN OLD.status <> 'draft' AND (
            OLD.status = 'locked' OR NEW.status = 'draft'
            OR {_rank("NEW.status")} < {_rank("OLD.status")}
            OR {changed}
            OR (OLD.cosigned_at IS NOT NULL AND ({cosign}))
            OR (OLD.locked_at IS NOT NULL AND NEW.locked_at IS NOT OLD.locked_at))
        {refuse}""",
        f"""CREATE TRIGGER clinical_note_signed_undeletable BEFORE DELETE ON clinical_note
        FOR EACH ROW WHEN OLD.status <> 'draft' {refuse}""",
    ]
    parent = "(SELECT status FROM clinical_note WHERE id = {row}.note_id) <> 'draft'"
    for table in CHILD_TABLES:
        statements += [
            f"""CREATE TRIGGER {table}_signed_insert BEFORE INSERT ON {table}
            FOR EACH ROW WHEN {parent.format(row="NEW")} {refuse}""",
            f"""CREATE TRIGGER {table}_signed_update BEFORE UPDATE ON {table}
            FOR EACH ROW WHEN {parent.format(row="OLD")} OR {parent.format(row="NEW")}
            {refuse}""",
            f"""CREATE TRIGGER {table}_signed_delete BEFORE DELETE ON {table}
            FOR EACH ROW WHEN {parent.format(row="OLD")} {refuse}""",
        ]
    return statements


def drop_sqlite() -> list[str]:
    names = ["clinical_note_signed_immutable", "clinical_note_signed_undeletable"]
    names += [f"{t}_signed_{op}" for t in CHILD_TABLES for op in ("insert", "update", "delete")]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def install(schema_editor: Any) -> None:
    """(Re)create the guard for the table as it is now. Call it from a migration."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES, params=None)
    elif vendor == "sqlite":
        for statement in sqlite_statements(_sqlite_columns(schema_editor)):
            schema_editor.execute(statement, params=None)
