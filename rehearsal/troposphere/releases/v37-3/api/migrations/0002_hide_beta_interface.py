"""v37-3: show_beta_interface becomes its inverse, hide_beta_interface (a lossy data migration:
a rollback of the images alone leaves the new column behind, so a rollback restores the dump)."""

from django.db import migrations, models


def invert_beta_interface(apps, schema_editor):
    UserPreferences = apps.get_model("api", "UserPreferences")
    UserPreferences.objects.filter(show_beta_interface=False).update(hide_beta_interface=True)


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="userpreferences",
            name="hide_beta_interface",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(invert_beta_interface),
        migrations.RemoveField(model_name="userpreferences", name="show_beta_interface"),
    ]
