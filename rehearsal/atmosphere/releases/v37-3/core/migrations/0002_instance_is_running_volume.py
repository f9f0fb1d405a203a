"""v37-3: core_instance.status (text) becomes is_running (boolean); adds core_volume.
Irreversible: status values other than 'active' are lost, so a rollback restores the dump."""

import django.db.models.deletion
from django.db import migrations, models


def fill_is_running(apps, schema_editor):
    Instance = apps.get_model("core", "Instance")
    Instance.objects.filter(status="active").update(is_running=True)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="instance",
            name="is_running",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(fill_is_running),
        migrations.RemoveField(model_name="instance", name="status"),
        migrations.CreateModel(
            name="Volume",
            fields=[
                (
                    "id",
                    models.AutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=256)),
                ("size_gb", models.IntegerField()),
                (
                    "instance",
                    models.ForeignKey(
                        null=True, on_delete=django.db.models.deletion.SET_NULL, to="core.instance"
                    ),
                ),
            ],
            options={"db_table": "core_volume"},
        ),
    ]
