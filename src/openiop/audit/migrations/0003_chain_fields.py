"""Per-organization chains: each event gets its chain (organization id, 0 for platform
events) and its position in that chain. Filled by 0004."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]

    operations = [
        migrations.AddField(
            model_name="accessevent",
            name="chain",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="accessevent",
            name="chain_seq",
            field=models.BigIntegerField(editable=False, null=True),
        ),
    ]
