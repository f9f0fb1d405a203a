from django.db import models
from standin_common.models import MaintenanceRecordBase


class MaintenanceRecord(MaintenanceRecordBase):
    created_date = models.DateTimeField(auto_now_add=True)
    modified_date = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "api_maintenancerecord"


class UserPreferences(models.Model):
    username = models.CharField(max_length=256, unique=True)
    show_beta_interface = models.BooleanField(default=False)
    created_date = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "api_userpreferences"

    @property
    def beta_interface(self):
        return self.show_beta_interface
