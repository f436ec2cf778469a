"""MeasureResponse moves from outcomes to intake, beside the instruments that score it and
the safety tasks it raises. Only Django's record of the models changes: the table keeps its
name (`outcomes_measureresponse`), its rows, indexes and the foreign keys that point at it."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    """Keep the one content type row (and anything that points at it) for the moved model."""
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="intake", model="measureresponse").exists():
        content_type.objects.filter(app_label="outcomes", model="measureresponse").update(
            app_label="intake")


def move_content_type_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="outcomes", model="measureresponse").exists():
        content_type.objects.filter(app_label="intake", model="measureresponse").update(
            app_label="outcomes")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('outcomes', '0002_measure_response_preliminary'),
        ('care', '0006_normalize_program_settings'),
        ('intake', '0003_safety_task_deadlines_escalation'),
        ('participants', '0004_disclosure_fields'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='MeasureResponse',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('instrument', models.CharField(max_length=20)),
                        ('context', models.CharField(choices=[('intake', 'Intake'), ('weekly', 'Weekly check-in'), ('discharge', 'Discharge'), ('follow_up', 'Follow-up')], default='weekly', max_length=20)),
                        ('source', models.CharField(choices=[('staff', 'Entered by staff'), ('portal', 'Participant portal'), ('self_check', 'Public self-check')], default='staff', max_length=20)),
                        ('status', models.CharField(choices=[('final', 'Final'), ('entered-in-error', 'Entered in error'), ('preliminary', 'Partial (not all items answered)')], default='final', max_length=20)),
                        ('answers', models.JSONField(help_text="Item id -> scored answer value, e.g. {'q1': 2, ...}.")),
                        ('sex', models.CharField(blank=True, help_text='Sets the AUDIT-C cut-off.', max_length=10)),
                        ('total', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('band', models.CharField(max_length=30)),
                        ('flags', models.JSONField(blank=True, default=list)),
                        ('safety_flag', models.BooleanField(default=False)),
                        ('completed_at', models.DateTimeField()),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('episode', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='measure_responses', to='care.episodeofcare')),
                        ('participant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='measure_responses', to='participants.participant')),
                        ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'outcomes_measureresponse',
                        'ordering': ['participant', 'instrument', 'completed_at'],
                    },
                ),
                migrations.AlterField(
                    model_name='levelofcareassessment',
                    name='cssrs_response',
                    field=models.ForeignKey(blank=True, help_text='The C-SSRS screen the decision relied on, when a risk flag called for one.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='intake.measureresponse'),
                ),
                migrations.AlterField(
                    model_name='safetytask',
                    name='measure_response',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='safety_tasks', to='intake.measureresponse'),
                ),
                migrations.AddIndex(
                    model_name='measureresponse',
                    index=models.Index(fields=['participant', 'instrument', 'completed_at'], name='measure_participant_series'),
                ),
                migrations.AddIndex(
                    model_name='measureresponse',
                    index=models.Index(fields=['episode', 'instrument'], name='measure_episode_instr'),
                ),
            ],
            database_operations=[
                migrations.RunPython(move_content_type, move_content_type_back),
            ],
        ),
    ]
