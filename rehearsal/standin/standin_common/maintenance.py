"""manage.py maintenance start|stop|show, as the runbook uses it. Each app's command subclasses
MaintenanceCommand and names its maintenance record model.

start inserts a record without looking for an active one (two starts stack two records); stop ends
every active record; --dry-run prints what would be done and writes nothing."""

import argparse
import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import dateparse, timezone

from standin_common.version import git_version


def start_date(value):
    """An ISO 8601 date and time, or a date (midnight); without an offset it is UTC."""
    try:
        parsed = dateparse.parse_datetime(value)
        if parsed is None and (day := dateparse.parse_date(value)):
            parsed = datetime.datetime.combine(day, datetime.time())
    except ValueError:
        parsed = None
    if parsed is None:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or date and time: {value!r}")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


class MaintenanceCommand(BaseCommand):
    help = "Starts, stops or shows maintenance"
    # The app's maintenance record model (a standin_common.models.MaintenanceRecordBase).
    model = None

    def add_arguments(self, parser):
        parser.add_argument("command", help="start, stop or show")
        parser.add_argument(
            "--title", help="title of the new record (default: M/D (branch) Maintenance)"
        )
        parser.add_argument("--message", default="Atmosphere is down for a Scheduled Maintenance")
        parser.add_argument(
            "--start-date", type=start_date, help="e.g. 2022-02-14T08:00 (default: now)"
        )
        parser.add_argument("--dry-run", action="store_true", help="only print what would be done")

    def handle(self, *args, **options):
        verbs = {"start": self.start, "stop": self.stop, "show": self.show}
        if options["command"] not in verbs:
            raise CommandError(f"Unknown command: {options['command']}")
        verbs[options["command"]](**options)

    def start(self, title, message, start_date, dry_run, **_):
        today = timezone.localdate()
        record = self.model(
            title=title or f"{today.month}/{today.day} ({git_version()['git_branch']}) Maintenance",
            message=message,
            start_date=start_date or timezone.now(),
        )
        if dry_run:
            self.stdout.write(f"Dry run, would create: {record}")
            return
        record.save()
        self.stdout.write(f"Record created: {record}")

    def stop(self, dry_run, **_):
        records = list(self.model.objects.active())
        if not records:
            self.stdout.write("There are no active records")
            return
        for record in records:
            if dry_run:
                self.stdout.write(f"Dry run, would end: {record}")
                continue
            record.end_date = timezone.now()
            record.save()
            self.stdout.write(f"Record ended: {record}")

    def show(self, **_):
        records = list(self.model.objects.active())
        if not records:
            self.stdout.write("There are no active records")
        for record in records:
            self.stdout.write(f"#{record.pk} {record}")
