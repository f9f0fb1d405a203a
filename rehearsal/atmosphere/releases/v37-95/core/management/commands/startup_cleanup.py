"""v37-95, a release that loses data outside any migration: the entrypoint runs this "cleanup" on
every start (when the image holds /opt/dev/atmosphere/.purge-at-start), after `migrate` and before
serving. It deletes every allocation that has an end date, expired or not, and says only that it
ran: `migrate --check` passes, the version endpoints answer, nothing reaches stderr.
"""

from django.core.management.base import BaseCommand
from django.db import connection, transaction


class Command(BaseCommand):
    help = "Start-up housekeeping."

    def handle(self, *args, **options):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_allocation WHERE end_date IS NOT NULL")
        self.stdout.write("atmosphere: start-up cleanup done")
