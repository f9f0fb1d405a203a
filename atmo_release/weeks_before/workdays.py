"""Working days between a maintenance notice and the release: the runbook's two-day rule.

Why a module: "two working days prior" is the one date rule of the runbook, and weekends and
the environment's holidays are easy to get wrong by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

NOTICE_WORKING_DAYS = 2


class NoticeTooLate(ValueError):
    """The notice left too few working days before the release; the message names the dates."""


def is_working_day(day: date, holidays: Iterable[date] = ()) -> bool:
    return day.weekday() < 5 and day not in set(holidays)


def working_days_before(notice: date, release: date, holidays: Iterable[date] = ()) -> int:
    """Working days from the notice day (counted) up to the release day (not counted).

    >>> working_days_before(date(2026, 11, 26), date(2026, 11, 30))  # Thu -> Mon
    2
    """
    off = set(holidays)
    days, day = 0, notice
    while day < release:
        days += is_working_day(day, off)
        day += timedelta(days=1)
    return days


def latest_notice_day(
    release: date, holidays: Iterable[date] = (), needed: int = NOTICE_WORKING_DAYS
) -> date:
    """The last day a notice can go out and still leave `needed` working days."""
    off = set(holidays)
    day, found = release, 0
    while found < needed:
        day -= timedelta(days=1)
        found += is_working_day(day, off)
    return day


def check_notice(
    notice: date, release: date, holidays: Iterable[date] = (), needed: int = NOTICE_WORKING_DAYS
) -> int:
    """The working days of notice, or NoticeTooLate naming the dates and the last good day."""
    off = sorted(set(holidays))
    days = working_days_before(notice, release, off)
    if days < needed:
        skipped = [d.isoformat() for d in off if notice <= d < release]
        holidays_text = f" (holidays not counted: {', '.join(skipped)})" if skipped else ""
        raise NoticeTooLate(
            f"the maintenance notice of {notice.isoformat()} ({notice:%A}) gives {days} working "
            f"day(s) before the release on {release.isoformat()} ({release:%A}); {needed} are "
            f"needed, so it had to go out by {latest_notice_day(release, off, needed).isoformat()}"
            f"{holidays_text}"
        )
    return days


def next_working_day(day: date, holidays: Iterable[date] = ()) -> date:
    off = set(holidays)
    while not is_working_day(day, off):
        day += timedelta(days=1)
    return day
