"""v37-96, a release whose migration stamps the clock: core_allocation gets `reviewed_at`, a
timestamp with `default=timezone.now`, on a table that has rows. As for any AddField with a
callable default, Django calls timezone.now once, writes that one value into every existing row
(`ADD COLUMN ... DEFAULT '<now>' NOT NULL`), then drops the column's default: the value is the
moment the migration ran, one value everywhere, different in every run.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0002_instance_is_running_volume")]
    operations = [
        migrations.AddField(
            model_name="allocation",
            name="reviewed_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
    ]
