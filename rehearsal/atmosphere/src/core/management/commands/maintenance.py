"""manage.py maintenance start|stop|show (standin_common.maintenance) on Atmosphere's records."""

from standin_common.maintenance import MaintenanceCommand

from core.models import MaintenanceRecord


class Command(MaintenanceCommand):
    model = MaintenanceRecord
