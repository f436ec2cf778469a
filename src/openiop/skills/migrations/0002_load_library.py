"""Load the module library and skills catalog from skills/data/library.json."""

from django.db import migrations


def load(apps, schema_editor):
    from openiop.skills.library import library_sync

    library_sync(apps.get_model("skills", "Module"), apps.get_model("skills", "Skill"))


def unload(apps, schema_editor):
    from openiop.skills.library import load_library

    data = load_library()
    Module = apps.get_model("skills", "Module")
    Skill = apps.get_model("skills", "Skill")
    Skill.objects.filter(slug__in=[s["slug"] for s in data["skills"]]).delete()
    # Modules referenced by deliveries or homework are protected; remove only unused ones.
    for module in Module.objects.filter(slug__in=[m["slug"] for m in data["modules"]]):
        if not module.deliveries.exists() and not module.assignments.exists():
            module.delete()


class Migration(migrations.Migration):
    dependencies = [("skills", "0001_curriculum")]

    operations = [migrations.RunPython(load, unload)]
