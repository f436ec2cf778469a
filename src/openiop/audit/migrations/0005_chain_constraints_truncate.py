"""Chain positions become required and unique per chain; on PostgreSQL a trigger refuses
TRUNCATE of the audit table, and the table's sequence moves past every existing number
(new events take their number from it: `audit_record`).

The trigger lets TRUNCATE through only in a session that set
`openiop.allow_audit_truncate = on`: the test suite's database flush does. A production
database never sets it (an owner who wants to purge could as well drop the trigger; the
signed checkpoints report either).
"""

from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION audit_accessevent_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('openiop.allow_audit_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: TRUNCATE refused'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_accessevent_no_truncate
    BEFORE TRUNCATE ON audit_accessevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_accessevent_no_truncate();
SELECT setval(pg_get_serial_sequence('audit_accessevent', 'id'),
              GREATEST((SELECT MAX(seq) FROM audit_accessevent),
                       (SELECT MAX(id) FROM audit_accessevent), 1));
"""

REVERSE = """
DROP TRIGGER IF EXISTS audit_accessevent_no_truncate ON audit_accessevent;
DROP FUNCTION IF EXISTS audit_accessevent_no_truncate();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_rechain")]

    operations = [
        migrations.AlterField(
            model_name="accessevent",
            name="chain_seq",
            field=models.BigIntegerField(editable=False),
        ),
        migrations.AddConstraint(
            model_name="accessevent",
            constraint=models.UniqueConstraint(fields=("chain", "chain_seq"),
                                               name="audit_chain_position"),
        ),
        migrations.RunPython(forward, reverse),
    ]
