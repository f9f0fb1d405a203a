from django.db import models
from django.utils import timezone


class MaintenanceRecordQuerySet(models.QuerySet):
    def active(self):
        """Started and not ended, oldest first."""
        return self.filter(start_date__lte=timezone.now(), end_date=None).order_by(
            "start_date", "id"
        )


class MaintenanceRecord(models.Model):
    start_date = models.DateTimeField()
    end_date = models.DateTimeField(null=True)
    title = models.CharField(max_length=256)
    message = models.TextField()
    disable_login = models.BooleanField(default=True)
    created_date = models.DateTimeField(auto_now_add=True)
    modified_date = models.DateTimeField(auto_now=True)

    objects = MaintenanceRecordQuerySet.as_manager()

    class Meta:
        db_table = "api_maintenancerecord"

    def __str__(self):
        return (
            f"{self.title}: {self.message} (from {self.start_date.isoformat(timespec='seconds')})"
        )


class UserPreferences(models.Model):
    username = models.CharField(max_length=256, unique=True)
    hide_beta_interface = models.BooleanField(default=False)
    created_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "api_userpreferences"

    @property
    def beta_interface(self):
        return not self.hide_beta_interface
