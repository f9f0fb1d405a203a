"""v37-94, a release with an in-place data migration, as real releases have ("a migration to
delete old duplicate events"). The schema does not change; the data does, on purpose:

- duplicate events (same instance_id, kind, payload and created_at) are deleted, the lowest id of
  each group kept (NULL instance_ids count as equal);
- open-ended allocations get an end date: end_date = start_date + 1 year where it was NULL;
- event kinds are lower-cased.

Atomic (Django's default on PostgreSQL): either all three happen and core.0003 is recorded, or
none does. Irreversible: a rollback restores the dump.
"""

from django.db import migrations

DELETE_DUPLICATE_EVENTS = """
DELETE FROM core_event WHERE id IN (
    SELECT id FROM (
        SELECT id, row_number() OVER (
            PARTITION BY instance_id, kind, payload, created_at ORDER BY id
        ) AS copy
        FROM core_event
    ) AS numbered
    WHERE copy > 1
)
"""
CLOSE_OPEN_ALLOCATIONS = (
    "UPDATE core_allocation SET end_date = start_date + interval '1 year' WHERE end_date IS NULL"
)
LOWER_CASE_KINDS = "UPDATE core_event SET kind = lower(kind) WHERE kind <> lower(kind)"


class Migration(migrations.Migration):
    dependencies = [("core", "0002_instance_is_running_volume")]
    operations = [
        migrations.RunSQL(DELETE_DUPLICATE_EVENTS),
        migrations.RunSQL(CLOSE_OPEN_ALLOCATIONS),
        migrations.RunSQL(LOWER_CASE_KINDS),
    ]
