"""A signed note's whole row is protected, on PostgreSQL and SQLite (clinical.signed_guard):
every column but the few the signing workflow fills in afterwards."""

import importlib

from django.db import migrations

from openiop.clinical import signed_guard


def forward(apps, schema_editor):
    signed_guard.install(schema_editor)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Back to the column list of 0002 (its function, without re-creating its triggers).
        first = importlib.import_module("openiop.clinical.migrations.0002_signed_note_immutable")
        function = first.FORWARD.split("CREATE TRIGGER clinical_note_signed_immutable")[0]
        schema_editor.execute(function, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in signed_guard.drop_sqlite():
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("clinical", "0005_plan_revision_draft")]

    operations = [migrations.RunPython(forward, reverse)]
