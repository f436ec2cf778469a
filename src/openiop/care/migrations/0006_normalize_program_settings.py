"""Program settings in their canonical form (care.program_settings): numbers stored as
text become numbers, times HH:MM:SS. A stored value that is not valid is kept as it is, so
that the director's program settings page shows it and asks for a correction (nothing is
dropped silently)."""

from django.db import migrations


def forward(apps, schema_editor):
    from openiop.care.program_settings import normalized

    Program = apps.get_model("care", "Program")
    for program in Program.objects.order_by("pk").only("pk", "settings"):
        clean = normalized(program.settings or {})
        if clean != program.settings:
            Program.objects.filter(pk=program.pk).update(settings=clean)


class Migration(migrations.Migration):
    dependencies = [("care", "0005_episodeofcare_episode_program_status")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
