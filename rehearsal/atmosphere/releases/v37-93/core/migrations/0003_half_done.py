"""v37-93, a deliberately broken release: this migration fails half-way and leaves its damage.

Non-atomic on purpose, so each statement commits before the error: core_instance.name becomes
display_name and the instances that are not running are deleted (their events and volumes lose
their instance, as the models' on_delete=SET_NULL would do), then it raises. The migration is
not recorded, every later start fails again (the column is gone), and only restoring the dump
brings the database back: the code of v37-2 and v37-3 both read core_instance.name.
"""

from django.db import migrations


def break_half_way(apps, schema_editor):
    schema_editor.execute("ALTER TABLE core_instance RENAME COLUMN name TO display_name")
    for table in ("core_event", "core_volume"):
        schema_editor.execute(
            f"UPDATE {table} SET instance_id = NULL "
            "WHERE instance_id IN (SELECT id FROM core_instance WHERE NOT is_running)"
        )
    schema_editor.execute("DELETE FROM core_instance WHERE NOT is_running")
    raise RuntimeError("core.0003: failed half-way (deliberately broken release v37-93)")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("core", "0002_instance_is_running_volume")]
    operations = [migrations.RunPython(break_half_way, atomic=False)]
