"""Treatment-plan revisions may be drafts: one clinician's changes in one sitting fold into
one revision until it is finalized. The PostgreSQL guard now refuses any change to a
finalized revision (and changes of number, plan or author of a draft); existing revisions
are all finalized."""

from django.db import migrations, models
from django.db.models import F

GUARD = """
DROP TRIGGER IF EXISTS clinical_planrevision_immutable ON clinical_treatmentplanrevision;
CREATE OR REPLACE FUNCTION clinical_planrevision_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.finalized_at IS NOT NULL
       OR NEW.number IS DISTINCT FROM OLD.number
       OR NEW.plan_id IS DISTINCT FROM OLD.plan_id
       OR NEW.created_by_id IS DISTINCT FROM OLD.created_by_id THEN
        RAISE EXCEPTION 'finalized treatment-plan revision %: % refused', OLD.id, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER clinical_planrevision_immutable
    BEFORE UPDATE ON clinical_treatmentplanrevision
    FOR EACH ROW EXECUTE FUNCTION clinical_planrevision_guard();
"""

UNGUARD = """
DROP TRIGGER IF EXISTS clinical_planrevision_immutable ON clinical_treatmentplanrevision;
DROP FUNCTION IF EXISTS clinical_planrevision_guard();
CREATE TRIGGER clinical_planrevision_immutable
    BEFORE UPDATE ON clinical_treatmentplanrevision
    FOR EACH ROW EXECUTE FUNCTION clinical_never_update();
"""


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD, params=None)


def finalize_existing(apps, schema_editor):
    revision = apps.get_model("clinical", "TreatmentPlanRevision")
    revision.objects.filter(finalized_at__isnull=True).update(
        finalized_at=F("created_at"), updated_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("clinical", "0004_addendum_for_one_attendee")]

    operations = [
        migrations.RunPython(guard, unguard),
        migrations.AddField(
            model_name="treatmentplanrevision", name="changes",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="treatmentplanrevision", name="finalized_at",
            field=models.DateTimeField(blank=True, help_text="Empty while the revision is a "
                                       "draft.", null=True),
        ),
        migrations.AddField(
            model_name="treatmentplanrevision", name="updated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(finalize_existing, migrations.RunPython.noop),
    ]
