"""MeasureResponse now lives in intake (intake 0004): only the record of the model leaves
outcomes; the table stays."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('intake', '0004_measure_response_moves_here'),
        ('outcomes', '0002_measure_response_preliminary'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='MeasureResponse')],
            database_operations=[],
        ),
    ]
