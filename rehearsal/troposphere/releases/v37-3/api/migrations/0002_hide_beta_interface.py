"""v37-3: show_beta_interface becomes its inverse, hide_beta_interface. A rollback of the images
alone leaves the new column behind; going back with `migrate api 0001` inverts it again, so
nothing a user set is lost."""

from django.db import migrations, models


def invert_beta_interface(apps, schema_editor):
    UserPreferences = apps.get_model("api", "UserPreferences")
    UserPreferences.objects.filter(show_beta_interface=False).update(hide_beta_interface=True)


def restore_beta_interface(apps, schema_editor):
    UserPreferences = apps.get_model("api", "UserPreferences")
    UserPreferences.objects.filter(hide_beta_interface=False).update(show_beta_interface=True)
    UserPreferences.objects.filter(hide_beta_interface=True).update(show_beta_interface=False)


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="userpreferences",
            name="hide_beta_interface",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(invert_beta_interface, reverse_code=restore_beta_interface),
        migrations.RemoveField(model_name="userpreferences", name="show_beta_interface"),
    ]
