"""The two-working-day notice rule: weekends and the environment's holidays do not count."""

from datetime import date

import pytest

from atmo_release.weeks_before.workdays import (
    NoticeTooLate,
    check_notice,
    latest_notice_day,
    next_working_day,
    working_days_before,
)

MON, TUE = date(2026, 11, 30), date(2026, 12, 1)
THANKSGIVING = [date(2026, 11, 26), date(2026, 11, 27)]  # Thursday, Friday


def test_counts_the_notice_day_not_the_release_day() -> None:
    assert working_days_before(date(2026, 11, 19), date(2026, 11, 23)) == 2  # Thu -> Mon
    assert working_days_before(MON, TUE) == 1
    assert working_days_before(TUE, TUE) == 0


def test_weekends_do_not_count() -> None:
    assert working_days_before(date(2026, 11, 20), MON) == 6  # Fri .. Fri, no weekends
    assert working_days_before(date(2026, 11, 28), MON) == 0  # Saturday for Monday


def test_holidays_do_not_count() -> None:
    assert working_days_before(date(2026, 11, 25), MON, THANKSGIVING) == 1
    assert latest_notice_day(MON, THANKSGIVING) == date(2026, 11, 24)


def test_one_working_day_fails_naming_the_dates() -> None:
    with pytest.raises(NoticeTooLate) as error:
        check_notice(MON, TUE)
    text = str(error.value)
    assert "2026-11-30" in text and "2026-12-01" in text and "1 working day" in text
    assert "by 2026-11-27" in text


def test_a_holiday_makes_an_otherwise_good_notice_late_and_is_named() -> None:
    assert check_notice(date(2026, 11, 25), date(2026, 11, 30)) == 3
    with pytest.raises(NoticeTooLate, match="holidays not counted: 2026-11-26, 2026-11-27"):
        check_notice(date(2026, 11, 25), MON, THANKSGIVING)


def test_two_working_days_pass() -> None:
    assert check_notice(date(2026, 11, 26), MON) == 2


def test_next_working_day_skips_weekend_and_holiday() -> None:
    assert next_working_day(date(2026, 11, 26), THANKSGIVING) == MON
