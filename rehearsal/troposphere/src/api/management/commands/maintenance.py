"""manage.py maintenance start|stop|show (standin_common.maintenance) on Troposphere's records."""

from standin_common.maintenance import MaintenanceCommand

from api.models import MaintenanceRecord


class Command(MaintenanceCommand):
    model = MaintenanceRecord
