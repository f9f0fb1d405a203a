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
    provider_id = models.IntegerField(null=True)  # NULL: every provider (a global record)

    objects = MaintenanceRecordQuerySet.as_manager()

    class Meta:
        db_table = "maintenance_record"

    def __str__(self):
        return (
            f"{self.title}: {self.message} (from {self.start_date.isoformat(timespec='seconds')})"
        )


class AtmosphereUser(models.Model):
    username = models.CharField(max_length=256, unique=True)
    email = models.CharField(max_length=256)
    is_staff = models.BooleanField(default=False)
    api_token = models.CharField(max_length=128, null=True)

    class Meta:
        db_table = "core_atmosphereuser"


class Instance(models.Model):
    name = models.CharField(max_length=256)
    owner = models.ForeignKey(AtmosphereUser, on_delete=models.CASCADE)
    status = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "core_instance"

    def as_json(self):
        return {
            "id": self.pk,
            "name": self.name,
            "owner": self.owner.username,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
        }
