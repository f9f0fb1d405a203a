"""What the two apps' maintenance records share; each app's concrete model adds its own columns
and its table name."""

from django.db import models
from django.utils import timezone


class MaintenanceRecordQuerySet(models.QuerySet):
    def active(self):
        """Started and not ended, oldest first."""
        return self.filter(start_date__lte=timezone.now(), end_date=None).order_by(
            "start_date", "id"
        )


class MaintenanceRecordBase(models.Model):
    start_date = models.DateTimeField()
    end_date = models.DateTimeField(null=True)
    title = models.CharField(max_length=256)
    message = models.TextField()
    disable_login = models.BooleanField(default=True)

    objects = MaintenanceRecordQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self):
        return (
            f"{self.title}: {self.message} (from {self.start_date.isoformat(timespec='seconds')})"
        )
