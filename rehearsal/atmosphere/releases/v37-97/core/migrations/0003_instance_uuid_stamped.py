"""v37-97, a release whose data migration stamps chance and the clock per row: core_instance
gets `uuid` and `stamped_at` (both NULL-able), and a RunPython fills each existing row with a
fresh `uuid4()` and `timezone.now()`, saving the rows one by one: a different value in every row,
different in every run. Rows added later keep NULL. Irreversible in data: a rollback restores the
dump.
"""

import uuid

from django.db import migrations, models
from django.utils import timezone


def stamp_instances(apps, schema_editor):
    Instance = apps.get_model("core", "Instance")
    for instance in Instance.objects.order_by("id").iterator():
        instance.uuid = uuid.uuid4()
        instance.stamped_at = timezone.now()
        instance.save(update_fields=["uuid", "stamped_at"])


class Migration(migrations.Migration):
    dependencies = [("core", "0002_instance_is_running_volume")]
    operations = [
        migrations.AddField(model_name="instance", name="uuid", field=models.UUIDField(null=True)),
        migrations.AddField(
            model_name="instance", name="stamped_at", field=models.DateTimeField(null=True)
        ),
        migrations.RunPython(stamp_instances, migrations.RunPython.noop),
    ]
