from django.db import models
from django.utils import timezone
from standin_common.models import MaintenanceRecordBase


class MaintenanceRecord(MaintenanceRecordBase):
    provider_id = models.IntegerField(null=True)  # NULL: every provider (a global record)

    class Meta:
        db_table = "maintenance_record"


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
    is_running = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    uuid = models.UUIDField(null=True)  # v37-97, filled by core.0003 for the rows it found
    stamped_at = models.DateTimeField(null=True)  # v37-97, idem

    class Meta:
        db_table = "core_instance"

    def as_json(self):
        return {
            "id": self.pk,
            "name": self.name,
            "owner": self.owner.username,
            "is_running": self.is_running,
            "created_at": self.created_at.isoformat(),
        }


class Volume(models.Model):
    name = models.CharField(max_length=256)
    size_gb = models.IntegerField()
    instance = models.ForeignKey(Instance, null=True, on_delete=models.SET_NULL)

    class Meta:
        db_table = "core_volume"


class Event(models.Model):
    """What happened to an instance (or to no instance in particular), kept for years."""

    instance = models.ForeignKey(Instance, null=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=64)
    payload = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "core_event"


class Allocation(models.Model):
    """A user's compute allowance; end_date NULL: open-ended."""

    owner = models.ForeignKey(AtmosphereUser, on_delete=models.CASCADE)
    compute_allowed = models.IntegerField()
    start_date = models.DateTimeField()
    end_date = models.DateTimeField(null=True)

    class Meta:
        db_table = "core_allocation"
