"""On PostgreSQL, the database itself refuses changes to signed notes.

A note that left `draft` may only move forward (signed -> co-signed -> locked) and only
its co-signature and lock columns may be filled in; its content, author, signature and
entries never change, and it cannot be deleted. Addenda, safety-plan versions and
treatment-plan revisions are never updated. The service layer enforces the same rules
(clinical.services.notes); this is the second line for raw SQL and other code paths.
"""

from django.db import migrations

FORWARD = """
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
       OR NEW.status = 'draft'
       OR NEW.sections IS DISTINCT FROM OLD.sections
       OR NEW.code IS DISTINCT FROM OLD.code
       OR NEW.program_id IS DISTINCT FROM OLD.program_id
       OR NEW.session_id IS DISTINCT FROM OLD.session_id
       OR NEW.participant_id IS DISTINCT FROM OLD.participant_id
       OR NEW.author_id IS DISTINCT FROM OLD.author_id
       OR NEW.kind IS DISTINCT FROM OLD.kind
       OR NEW.note_format IS DISTINCT FROM OLD.note_format
       OR NEW.needs_cosignature IS DISTINCT FROM OLD.needs_cosignature
       OR NEW.signed_by_id IS DISTINCT FROM OLD.signed_by_id
       OR NEW.signed_at IS DISTINCT FROM OLD.signed_at
       OR NEW.signed_as IS DISTINCT FROM OLD.signed_as
       OR NEW.content_hash IS DISTINCT FROM OLD.content_hash
       OR NEW.warning_override IS DISTINCT FROM OLD.warning_override
       OR NEW.created_at IS DISTINCT FROM OLD.created_at
       OR (OLD.cosigned_at IS NOT NULL AND (
             NEW.cosigned_at IS DISTINCT FROM OLD.cosigned_at
             OR NEW.cosigned_by_id IS DISTINCT FROM OLD.cosigned_by_id
             OR NEW.cosigned_as IS DISTINCT FROM OLD.cosigned_as))
    THEN
        RAISE EXCEPTION 'clinical note % is signed: % refused (amend it with an addendum)',
            OLD.code, TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER clinical_note_signed_immutable
    BEFORE UPDATE OR DELETE ON clinical_note
    FOR EACH ROW EXECUTE FUNCTION clinical_note_guard();

CREATE OR REPLACE FUNCTION clinical_note_child_guard() RETURNS trigger AS $$
DECLARE
    parent_status varchar;
    parent_id bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        parent_id := OLD.note_id;
    ELSE
        parent_id := NEW.note_id;
    END IF;
    SELECT status INTO parent_status FROM clinical_note WHERE id = parent_id;
    IF parent_status IS NOT NULL AND parent_status <> 'draft' THEN
        RAISE EXCEPTION 'clinical note % is signed: % on % refused', parent_id, TG_OP,
            TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.note_id IS DISTINCT FROM NEW.note_id THEN
        SELECT status INTO parent_status FROM clinical_note WHERE id = OLD.note_id;
        IF parent_status IS NOT NULL AND parent_status <> 'draft' THEN
            RAISE EXCEPTION 'clinical note % is signed: moving its rows refused', OLD.note_id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER clinical_entry_signed_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON clinical_groupnoteentry
    FOR EACH ROW EXECUTE FUNCTION clinical_note_child_guard();
CREATE TRIGGER clinical_note_family_signed_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON clinical_note_family_members
    FOR EACH ROW EXECUTE FUNCTION clinical_note_child_guard();
CREATE TRIGGER clinical_note_objectives_signed_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON clinical_note_objectives
    FOR EACH ROW EXECUTE FUNCTION clinical_note_child_guard();

CREATE OR REPLACE FUNCTION clinical_never_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are never changed: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER clinical_addendum_immutable
    BEFORE UPDATE OR DELETE ON clinical_addendum
    FOR EACH ROW EXECUTE FUNCTION clinical_never_update();
CREATE TRIGGER clinical_safetyplan_immutable
    BEFORE UPDATE ON clinical_safetyplan
    FOR EACH ROW EXECUTE FUNCTION clinical_never_update();
CREATE TRIGGER clinical_planrevision_immutable
    BEFORE UPDATE ON clinical_treatmentplanrevision
    FOR EACH ROW EXECUTE FUNCTION clinical_never_update();
"""

REVERSE = """
DROP TRIGGER IF EXISTS clinical_planrevision_immutable ON clinical_treatmentplanrevision;
DROP TRIGGER IF EXISTS clinical_safetyplan_immutable ON clinical_safetyplan;
DROP TRIGGER IF EXISTS clinical_addendum_immutable ON clinical_addendum;
DROP FUNCTION IF EXISTS clinical_never_update();
DROP TRIGGER IF EXISTS clinical_note_objectives_signed_immutable ON clinical_note_objectives;
DROP TRIGGER IF EXISTS clinical_note_family_signed_immutable ON clinical_note_family_members;
DROP TRIGGER IF EXISTS clinical_entry_signed_immutable ON clinical_groupnoteentry;
DROP FUNCTION IF EXISTS clinical_note_child_guard();
DROP TRIGGER IF EXISTS clinical_note_signed_immutable ON clinical_note;
DROP FUNCTION IF EXISTS clinical_note_guard();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("clinical", "0001_initial")]

    operations = [migrations.RunPython(forward, reverse)]
