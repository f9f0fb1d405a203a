"""v37-3: core_instance.status (text) becomes is_running (boolean); adds core_volume.

Reversible, as a release that has been in use must be: going back (`migrate core 0001` with this
release's code) gives every instance its status again, `active` where it runs and `suspended`
where it does not (the kinds of stopped instance are not kept, so a `deleted` one comes back
`suspended`), and drops core_volume with its rows, which v37-2 has no table for."""

import django.db.models.deletion
from django.db import migrations, models


def fill_is_running(apps, schema_editor):
    Instance = apps.get_model("core", "Instance")
    Instance.objects.filter(status="active").update(is_running=True)


def fill_status(apps, schema_editor):
    """status from is_running: active where it runs, suspended where it does not."""
    Instance = apps.get_model("core", "Instance")
    Instance.objects.filter(is_running=True).update(status="active")
    Instance.objects.filter(is_running=False).update(status="suspended")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="instance",
            name="is_running",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(fill_is_running, reverse_code=fill_status),
        # A default, so that going back can add the column again to a table that has rows.
        migrations.AlterField(
            model_name="instance",
            name="status",
            field=models.CharField(max_length=32, default="suspended"),
        ),
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
