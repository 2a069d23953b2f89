"""Trading-hours schedules: windows, days, DST, holidays, resets, and their invariants."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trifix.runtime.schedule import ALL_DAYS, EPOCH, Period, Schedule, ScheduleKind

TICK = timedelta(microseconds=1)
NEW_YORK = "America/New_York"
LONDON = "Europe/London"
MON, TUE, WED, THU, FRI, SAT, SUN = range(1, 8)
WEEKDAYS = frozenset({MON, TUE, WED, THU, FRI})


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall time in `zone` (first occurrence if ambiguous)."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


def period(start: datetime, end: datetime) -> Period:
    return Period(start, end)


# 2026-01-05 is a Monday.
NINE_TO_FIVE = Schedule.daily(time(9), time(17))
OVERNIGHT = Schedule.daily(time(22), time(6))
FX_WEEK = Schedule.weekly(SUN, time(17), FRI, time(17), tz=NEW_YORK)


class TestDailyUtc:
    def test_open_inside_closed_outside_start_inclusive_end_exclusive(self) -> None:
        assert not NINE_TO_FIVE.is_open(utc(2026, 1, 5, 9) - TICK)
        assert NINE_TO_FIVE.is_open(utc(2026, 1, 5, 9))
        assert NINE_TO_FIVE.is_open(utc(2026, 1, 5, 17) - TICK)
        assert not NINE_TO_FIVE.is_open(utc(2026, 1, 5, 17))
        assert not NINE_TO_FIVE.is_open(utc(2026, 1, 5, 23))

    def test_period(self) -> None:
        expected = period(utc(2026, 1, 5, 9), utc(2026, 1, 5, 17))
        assert NINE_TO_FIVE.period(utc(2026, 1, 5, 12)) == expected
        assert NINE_TO_FIVE.period(utc(2026, 1, 5, 9)) == expected
        assert NINE_TO_FIVE.period(utc(2026, 1, 5, 17)) is None
        assert NINE_TO_FIVE.period_start(utc(2026, 1, 5, 12)) == utc(2026, 1, 5, 9)
        assert NINE_TO_FIVE.period_start(utc(2026, 1, 5, 8)) is None

    @pytest.mark.parametrize(
        ("now", "expected"),
        [
            (utc(2026, 1, 5, 8), utc(2026, 1, 5, 9)),  # before the window
            (utc(2026, 1, 5, 9) - TICK, utc(2026, 1, 5, 9)),
            (utc(2026, 1, 5, 9), utc(2026, 1, 5, 9)),  # at the start: open now
            (utc(2026, 1, 5, 12), utc(2026, 1, 5, 12)),  # inside: open now
            (utc(2026, 1, 5, 17), utc(2026, 1, 6, 9)),  # at the end: tomorrow
            (utc(2026, 1, 5, 23), utc(2026, 1, 6, 9)),
        ],
    )
    def test_next_open(self, now: datetime, expected: datetime) -> None:
        assert NINE_TO_FIVE.next_open(now) == expected

    @pytest.mark.parametrize(
        ("now", "expected"),
        [
            (utc(2026, 1, 5, 9), utc(2026, 1, 5, 17)),  # at the start
            (utc(2026, 1, 5, 12), utc(2026, 1, 5, 17)),  # inside
            (utc(2026, 1, 5, 17) - TICK, utc(2026, 1, 5, 17)),
            (utc(2026, 1, 5, 17), utc(2026, 1, 5, 17)),  # at the end: closed now
            (utc(2026, 1, 5, 8), utc(2026, 1, 5, 8)),  # outside: closed now
        ],
    )
    def test_next_close(self, now: datetime, expected: datetime) -> None:
        assert NINE_TO_FIVE.next_close(now) == expected

    def test_answers_in_utc_whatever_zone_now_is_in(self) -> None:
        now = local(NEW_YORK, 2026, 1, 5, 3)  # 08:00 UTC
        next_open = NINE_TO_FIVE.next_open(now)
        assert next_open == utc(2026, 1, 5, 9)
        assert next_open is not None
        assert next_open.tzinfo is UTC
        inside = datetime(2026, 1, 5, 12, tzinfo=timezone(timedelta(hours=2)))  # 10:00 UTC
        opened = NINE_TO_FIVE.next_open(inside)
        assert opened == inside
        assert opened is not None
        assert opened.tzinfo is UTC
        found = NINE_TO_FIVE.period(inside)
        assert found is not None
        assert found.start.tzinfo is UTC


class TestAcrossMidnight:
    def test_window_spans_two_dates(self) -> None:
        monday_night = period(utc(2026, 1, 5, 22), utc(2026, 1, 6, 6))
        assert OVERNIGHT.period(utc(2026, 1, 5, 23)) == monday_night
        assert OVERNIGHT.period(utc(2026, 1, 6, 6) - TICK) == monday_night
        assert OVERNIGHT.period(utc(2026, 1, 6, 6)) is None
        assert not OVERNIGHT.is_open(utc(2026, 1, 6, 12))
        assert OVERNIGHT.next_open(utc(2026, 1, 6, 12)) == utc(2026, 1, 6, 22)
        assert OVERNIGHT.next_close(utc(2026, 1, 5, 23)) == utc(2026, 1, 6, 6)

    def test_days_are_the_days_a_period_starts(self) -> None:
        schedule = Schedule.daily(time(22), time(6), days=WEEKDAYS)
        # Friday night runs into Saturday morning; nothing starts on Saturday or Sunday.
        assert schedule.period(utc(2026, 1, 10, 3)) == period(
            utc(2026, 1, 9, 22), utc(2026, 1, 10, 6)
        )
        assert not schedule.is_open(utc(2026, 1, 10, 23))
        assert not schedule.is_open(utc(2026, 1, 11, 23))
        assert not schedule.is_open(utc(2026, 1, 12, 3))  # Sunday night did not start
        assert schedule.next_open(utc(2026, 1, 10, 12)) == utc(2026, 1, 12, 22)


class TestDaysOfWeek:
    SCHEDULE = Schedule.daily(time(9, 30), time(16), tz=NEW_YORK, days=[1, 2, 3, 4, 5])

    def test_weekend_closed(self) -> None:
        assert self.SCHEDULE.days == WEEKDAYS
        assert self.SCHEDULE.is_open(local(NEW_YORK, 2026, 1, 9, 12))  # Friday
        assert not self.SCHEDULE.is_open(local(NEW_YORK, 2026, 1, 10, 12))  # Saturday
        assert not self.SCHEDULE.is_open(local(NEW_YORK, 2026, 1, 11, 12))  # Sunday

    def test_next_open_skips_the_weekend(self) -> None:
        # Friday 17:00 New York (EST): next open is Monday 09:30 EST = 14:30 UTC.
        assert self.SCHEDULE.next_open(local(NEW_YORK, 2026, 1, 9, 17)) == utc(2026, 1, 12, 14, 30)

    def test_every_day_when_days_is_none(self) -> None:
        schedule = Schedule.daily(time(9), time(17))
        assert schedule.days == ALL_DAYS
        assert schedule.is_open(utc(2026, 1, 10, 12))


class TestWeeklyNewYork:
    """Sunday 17:00 to Friday 17:00 New York; US DST starts 2026-03-08 and ends 2026-11-01."""

    @pytest.mark.parametrize(
        ("now", "expected"),
        [
            # The week before DST: EST, UTC-5.
            (utc(2026, 3, 4, 12), period(utc(2026, 3, 1, 22), utc(2026, 3, 6, 22))),
            # DST started at 02:00 on Sunday 03-08, before the 17:00 open: EDT, UTC-4.
            (utc(2026, 3, 10, 12), period(utc(2026, 3, 8, 21), utc(2026, 3, 13, 21))),
            # The week before DST ends: EDT.
            (utc(2026, 10, 28, 12), period(utc(2026, 10, 25, 21), utc(2026, 10, 30, 21))),
            # DST ended at 02:00 on Sunday 11-01: EST again.
            (utc(2026, 11, 4, 12), period(utc(2026, 11, 1, 22), utc(2026, 11, 6, 22))),
        ],
    )
    def test_periods(self, now: datetime, expected: Period) -> None:
        assert FX_WEEK.period(now) == expected
        assert FX_WEEK.period_start(now) == expected.start
        assert FX_WEEK.next_close(now) == expected.end

    def test_boundaries_in_march(self) -> None:
        assert FX_WEEK.is_open(utc(2026, 3, 6, 22) - TICK)
        assert not FX_WEEK.is_open(utc(2026, 3, 6, 22))
        assert not FX_WEEK.is_open(utc(2026, 3, 7, 12))  # Saturday
        assert not FX_WEEK.is_open(utc(2026, 3, 8, 21) - TICK)
        assert FX_WEEK.is_open(utc(2026, 3, 8, 21))
        assert FX_WEEK.next_open(utc(2026, 3, 6, 22)) == utc(2026, 3, 8, 21)
        assert FX_WEEK.next_close(utc(2026, 3, 7, 12)) == utc(2026, 3, 7, 12)

    def test_boundaries_in_november(self) -> None:
        assert FX_WEEK.next_open(utc(2026, 10, 30, 21)) == utc(2026, 11, 1, 22)
        assert not FX_WEEK.is_open(utc(2026, 11, 1, 22) - TICK)
        assert FX_WEEK.is_open(utc(2026, 11, 1, 22))
        assert FX_WEEK.next_close(utc(2026, 11, 1, 22)) == utc(2026, 11, 6, 22)

    def test_period_across_spring_forward_is_23_hours(self) -> None:
        schedule = Schedule.weekly(SAT, time(12), SUN, time(12), tz=NEW_YORK)
        found = schedule.period(utc(2026, 3, 8, 3))
        assert found == period(utc(2026, 3, 7, 17), utc(2026, 3, 8, 16))

    def test_period_across_fall_back_is_25_hours(self) -> None:
        schedule = Schedule.weekly(SAT, time(12), SUN, time(12), tz=NEW_YORK)
        found = schedule.period(utc(2026, 11, 1, 3))
        assert found == period(utc(2026, 10, 31, 16), utc(2026, 11, 1, 17))

    def test_same_day_end_before_start_runs_almost_a_week(self) -> None:
        schedule = Schedule.weekly(SUN, time(18), SUN, time(17))
        assert schedule.period(utc(2026, 1, 7)) == period(utc(2026, 1, 4, 18), utc(2026, 1, 11, 17))
        assert not schedule.is_open(utc(2026, 1, 11, 17, 30))
        assert schedule.next_open(utc(2026, 1, 11, 17)) == utc(2026, 1, 11, 18)

    def test_same_day_end_after_start_is_a_few_hours(self) -> None:
        schedule = Schedule.weekly(WED, time(10), WED, time(12))
        assert schedule.period(utc(2026, 1, 7, 11)) == period(
            utc(2026, 1, 7, 10), utc(2026, 1, 7, 12)
        )
        assert not schedule.is_open(utc(2026, 1, 8, 11))
        assert schedule.next_open(utc(2026, 1, 7, 12)) == utc(2026, 1, 14, 10)


class TestLondonAcrossBst:
    """Europe/London moves to BST (UTC+1) at 01:00 UTC on Sunday 2026-03-29."""

    SCHEDULE = Schedule.daily(time(8), time(16, 30), tz=LONDON)

    @pytest.mark.parametrize(
        ("day", "start", "end"),
        [
            (27, utc(2026, 3, 27, 8), utc(2026, 3, 27, 16, 30)),
            (28, utc(2026, 3, 28, 8), utc(2026, 3, 28, 16, 30)),
            (29, utc(2026, 3, 29, 7), utc(2026, 3, 29, 15, 30)),
            (30, utc(2026, 3, 30, 7), utc(2026, 3, 30, 15, 30)),
        ],
    )
    def test_local_hours_hold_across_the_change(
        self, day: int, start: datetime, end: datetime
    ) -> None:
        assert self.SCHEDULE.period(local(LONDON, 2026, 3, day, 12)) == period(start, end)
        assert self.SCHEDULE.next_open(local(LONDON, 2026, 3, day, 7)) == start

    def test_last_saturday_close_to_sunday_open(self) -> None:
        assert self.SCHEDULE.next_open(utc(2026, 3, 28, 16, 30)) == utc(2026, 3, 29, 7)


class TestDstEdges:
    def test_start_in_spring_gap_moves_to_the_end_of_the_gap(self) -> None:
        # 02:30 does not exist in New York on 2026-03-08: clocks jump from 02:00 to 03:00 EDT.
        schedule = Schedule.daily(time(2, 30), time(4), tz=NEW_YORK)
        assert schedule.period(utc(2026, 3, 8, 7, 30)) == period(
            utc(2026, 3, 8, 7), utc(2026, 3, 8, 8)
        )
        assert schedule.period(utc(2026, 3, 7, 8)) == period(
            utc(2026, 3, 7, 7, 30), utc(2026, 3, 7, 9)
        )
        assert schedule.next_open(utc(2026, 3, 8, 5)) == utc(2026, 3, 8, 7)

    def test_gap_of_half_an_hour(self) -> None:
        # Lord Howe Island moves from UTC+10:30 to UTC+11 at 02:00 local on 2026-10-04.
        schedule = Schedule.daily(time(2, 10), time(3), tz="Australia/Lord_Howe")
        assert schedule.next_open(utc(2026, 10, 3, 12)) == utc(2026, 10, 3, 15, 30)
        exactly_at_gap = Schedule.daily(time(2), time(3), tz="Australia/Lord_Howe")
        assert exactly_at_gap.next_open(utc(2026, 10, 3, 12)) == utc(2026, 10, 3, 15, 30)

    def test_ambiguous_times_take_the_first_occurrence(self) -> None:
        # 01:30 happens twice in New York on 2026-11-01: 05:30 UTC (EDT) and 06:30 UTC (EST).
        starts = Schedule.daily(time(1, 30), time(3), tz=NEW_YORK)
        assert starts.period(utc(2026, 11, 1, 6)) == period(
            utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8)
        )
        ends = Schedule.daily(time(0), time(1, 30), tz=NEW_YORK)
        assert ends.period(utc(2026, 11, 1, 5)) == period(
            utc(2026, 11, 1, 4), utc(2026, 11, 1, 5, 30)
        )
        assert not ends.is_open(utc(2026, 11, 1, 6))

    def test_period_inside_the_gap_is_dropped(self) -> None:
        schedule = Schedule.daily(time(2, 10), time(2, 40), tz=NEW_YORK)
        assert schedule.period(utc(2026, 3, 7, 7, 20)) == period(
            utc(2026, 3, 7, 7, 10), utc(2026, 3, 7, 7, 40)
        )
        assert not schedule.is_open(utc(2026, 3, 8, 7))
        assert schedule.next_open(utc(2026, 3, 8, 5)) == utc(2026, 3, 9, 6, 10)

    def test_london_start_in_gap(self) -> None:
        # London has no 01:30 on 2026-03-29; 02:00 BST (01:00 UTC) is the first instant after.
        schedule = Schedule.daily(time(1, 30), time(3), tz=LONDON)
        assert schedule.period(utc(2026, 3, 29, 1)) == period(
            utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)
        )


class TestHolidays:
    def test_no_period_on_a_holiday(self) -> None:
        schedule = Schedule.daily(
            time(9, 30), time(16), tz=NEW_YORK, days=WEEKDAYS, holidays={date(2026, 12, 25)}
        )
        assert schedule.holidays == frozenset({date(2026, 12, 25)})
        assert not schedule.is_open(local(NEW_YORK, 2026, 12, 25, 12))
        assert schedule.is_open(local(NEW_YORK, 2026, 12, 24, 12))
        # Thursday close to Monday open, skipping the Friday holiday and the weekend.
        assert schedule.next_open(local(NEW_YORK, 2026, 12, 24, 16)) == utc(2026, 12, 28, 14, 30)

    def test_holiday_removes_the_period_starting_that_day_only(self) -> None:
        schedule = Schedule.daily(time(22), time(6), holidays=[date(2026, 1, 6)])
        assert schedule.is_open(utc(2026, 1, 6, 3))  # started Monday night
        assert not schedule.is_open(utc(2026, 1, 6, 23))
        assert not schedule.is_open(utc(2026, 1, 7, 3))
        assert schedule.next_open(utc(2026, 1, 6, 6)) == utc(2026, 1, 7, 22)

    def test_weekly_holiday_closes_the_week(self) -> None:
        schedule = Schedule.weekly(
            SUN, time(17), FRI, time(17), tz=NEW_YORK, holidays=[date(2026, 12, 27)]
        )
        assert not schedule.is_open(utc(2026, 12, 30, 12))
        assert schedule.next_open(utc(2026, 12, 26)) == utc(2027, 1, 3, 22)
        assert schedule.next_close(utc(2026, 12, 30, 12)) == utc(2026, 12, 30, 12)

    def test_a_long_run_of_holidays(self) -> None:
        first = date(2026, 1, 1)
        closed = {first + timedelta(days=n) for n in range(60)}
        schedule = Schedule.daily(time(9), time(17), holidays=closed)
        assert schedule.next_open(utc(2026, 1, 1)) == utc(2026, 3, 2, 9)


class TestNonStop:
    SCHEDULE = Schedule.non_stop()

    @pytest.mark.parametrize(
        "now", [utc(1999, 12, 31, 23, 59), utc(2026, 3, 8, 7), utc(2100, 1, 1)]
    )
    def test_always_open_one_endless_period(self, now: datetime) -> None:
        assert self.SCHEDULE.kind is ScheduleKind.NON_STOP
        assert self.SCHEDULE.is_open(now)
        assert self.SCHEDULE.period(now) == Period(EPOCH, None)
        assert self.SCHEDULE.period_start(now) == EPOCH
        assert self.SCHEDULE.next_open(now) == now
        assert self.SCHEDULE.next_close(now) is None

    def test_never_resets(self) -> None:
        now = utc(2026, 1, 5)
        assert not self.SCHEDULE.needs_reset(utc(2020, 1, 1), now)
        assert not self.SCHEDULE.needs_reset(utc(1960, 1, 1), now)  # even before EPOCH


class TestRoundTheClock:
    """start == end: 24-hour periods, open across the boundary, resetting at it."""

    EVERY_DAY = Schedule.daily(time(17), time(17), tz=NEW_YORK)

    def test_always_open_but_periods_turn_over(self) -> None:
        before = local(NEW_YORK, 2026, 1, 6, 17) - TICK
        at = local(NEW_YORK, 2026, 1, 6, 17)
        assert self.EVERY_DAY.is_open(before)
        assert self.EVERY_DAY.is_open(at)
        assert self.EVERY_DAY.period(before) == period(utc(2026, 1, 5, 22), utc(2026, 1, 6, 22))
        assert self.EVERY_DAY.period_start(at) == utc(2026, 1, 6, 22)
        assert self.EVERY_DAY.needs_reset(utc(2026, 1, 6, 12), at)
        assert not self.EVERY_DAY.needs_reset(utc(2026, 1, 6, 12), before)

    def test_never_closes(self) -> None:
        assert self.EVERY_DAY.next_close(utc(2026, 1, 6)) is None

    def test_closes_at_the_next_holiday(self) -> None:
        schedule = Schedule.daily(time(17), time(17), tz=NEW_YORK, holidays=[date(2026, 1, 9)])
        assert schedule.next_close(utc(2026, 1, 6)) == utc(2026, 1, 9, 22)
        assert not schedule.is_open(utc(2026, 1, 9, 22))
        assert schedule.next_close(utc(2026, 1, 20)) is None  # the holiday is behind

    def test_weekdays_only_close_on_saturday(self) -> None:
        schedule = Schedule.daily(time(17), time(17), tz=NEW_YORK, days=WEEKDAYS)
        # Tuesday: the run of touching periods ends Saturday 17:00 New York.
        assert schedule.next_close(utc(2026, 1, 6, 12)) == utc(2026, 1, 10, 22)
        assert schedule.next_open(utc(2026, 1, 10, 22)) == utc(2026, 1, 12, 22)

    def test_touching_periods_across_spring_forward(self) -> None:
        schedule = Schedule.daily(time(2, 30), time(2, 30), tz=NEW_YORK)
        assert schedule.period(utc(2026, 3, 8, 6)) == period(
            utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7)
        )
        assert schedule.period(utc(2026, 3, 8, 7)) == period(
            utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30)
        )


class TestNeedsReset:
    def test_same_period_no_reset(self) -> None:
        created = utc(2026, 1, 5, 10)
        assert not NINE_TO_FIVE.needs_reset(created, utc(2026, 1, 5, 15))

    def test_previous_period_resets(self) -> None:
        created = utc(2026, 1, 5, 10)
        assert NINE_TO_FIVE.needs_reset(created, utc(2026, 1, 6, 10))

    def test_boundary(self) -> None:
        now = utc(2026, 1, 6, 12)
        assert not NINE_TO_FIVE.needs_reset(utc(2026, 1, 6, 9), now)
        assert NINE_TO_FIVE.needs_reset(utc(2026, 1, 6, 9) - TICK, now)
        assert not NINE_TO_FIVE.needs_reset(utc(2026, 1, 6, 13), now)  # clock skew: newer store

    def test_closed_no_reset(self) -> None:
        assert not NINE_TO_FIVE.needs_reset(utc(2025, 1, 1), utc(2026, 1, 6, 20))

    def test_weekly(self) -> None:
        created = local(NEW_YORK, 2026, 3, 11, 9)  # Wednesday
        assert not FX_WEEK.needs_reset(created, local(NEW_YORK, 2026, 3, 13, 16))
        assert FX_WEEK.needs_reset(created, local(NEW_YORK, 2026, 3, 16, 9))

    def test_creation_time_in_another_zone(self) -> None:
        created = local(NEW_YORK, 2026, 1, 6, 4)  # 09:00 UTC
        assert not NINE_TO_FIVE.needs_reset(created, utc(2026, 1, 6, 12))
        assert NINE_TO_FIVE.needs_reset(created - TICK, utc(2026, 1, 6, 12))


class TestValueObjects:
    def test_period_contains(self) -> None:
        found = period(utc(2026, 1, 5, 9), utc(2026, 1, 5, 17))
        assert utc(2026, 1, 5, 9) in found
        assert utc(2026, 1, 5, 17) - TICK in found
        assert utc(2026, 1, 5, 17) not in found
        assert utc(2026, 1, 5, 9) - TICK not in found
        endless = Period(EPOCH, None)
        assert utc(2100, 1, 1) in endless
        assert EPOCH - TICK not in endless

    def test_schedule_is_a_frozen_hashable_value(self) -> None:
        again = Schedule.weekly(SUN, time(17), FRI, time(17), tz=NEW_YORK)
        assert again == FX_WEEK
        assert hash(again) == hash(FX_WEEK)
        assert again != Schedule.weekly(SUN, time(17), FRI, time(16), tz=NEW_YORK)
        assert FX_WEEK.kind is ScheduleKind.WEEKLY
        assert FX_WEEK.days == frozenset({SUN})
        assert FX_WEEK.end_day == FRI
        assert "ZoneInfo" not in repr(FX_WEEK)
        with pytest.raises(dataclasses.FrozenInstanceError):
            FX_WEEK.timezone = "UTC"  # type: ignore[misc]


class TestInvalid:
    @pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd", "New York"])
    def test_unknown_zone(self, zone: str) -> None:
        with pytest.raises(ValueError, match="unknown time zone"):
            Schedule.daily(time(9), time(17), tz=zone)

    def test_unknown_zone_is_named(self) -> None:
        with pytest.raises(ValueError, match="Mars/Olympus_Mons"):
            Schedule.weekly(SUN, time(17), FRI, time(17), tz="Mars/Olympus_Mons")

    @pytest.mark.parametrize("day", [0, 8, -1, True, "1", 1.0])
    def test_bad_day(self, day: object) -> None:
        with pytest.raises(ValueError, match=rf"days: {day!r} is not an ISO weekday"):
            Schedule.daily(time(9), time(17), days=[day])  # type: ignore[list-item]

    @pytest.mark.parametrize(("start_day", "end_day", "name"), [(0, 5, "days"), (7, 8, "end_day")])
    def test_bad_weekly_day(self, start_day: int, end_day: int, name: str) -> None:
        bad = start_day if name == "days" else end_day
        with pytest.raises(ValueError, match=rf"{name}: {bad} is not an ISO weekday"):
            Schedule.weekly(start_day, time(17), end_day, time(17))

    def test_no_days(self) -> None:
        with pytest.raises(ValueError, match="days is empty"):
            Schedule.daily(time(9), time(17), days=[])

    def test_weekly_start_equals_end(self) -> None:
        with pytest.raises(ValueError, match=r"same time \(day 7 17:00:00\)"):
            Schedule.weekly(SUN, time(17), SUN, time(17))

    @pytest.mark.parametrize("which", ["start_time", "end_time"])
    def test_time_with_tzinfo(self, which: str) -> None:
        aware = time(9, tzinfo=UTC)
        plain = time(17)
        start, end = (aware, plain) if which == "start_time" else (plain, aware)
        with pytest.raises(ValueError, match=f"{which} .* carries a tzinfo"):
            Schedule.daily(start, end)

    @pytest.mark.parametrize("holiday", [datetime(2026, 12, 25), "2026-12-25"])
    def test_holiday_not_a_date(self, holiday: object) -> None:
        with pytest.raises(ValueError, match="is not a date"):
            Schedule.daily(time(9), time(17), holidays=[holiday])  # type: ignore[list-item]

    def test_holidays_on_non_stop(self) -> None:
        with pytest.raises(ValueError, match="non-stop"):
            Schedule(ScheduleKind.NON_STOP, holidays=frozenset({date(2026, 12, 25)}))

    def test_end_day_on_daily(self) -> None:
        with pytest.raises(ValueError, match="end_day 5 is only for a weekly"):
            Schedule(ScheduleKind.DAILY, time(9), time(17), end_day=5)

    def test_weekly_with_several_start_days(self) -> None:
        with pytest.raises(ValueError, match=r"one day, not \[1, 2\]"):
            Schedule(ScheduleKind.WEEKLY, time(9), time(17), days=frozenset({1, 2}), end_day=3)

    def test_weekly_without_end_day(self) -> None:
        with pytest.raises(ValueError, match="end_day: None"):
            Schedule(ScheduleKind.WEEKLY, time(9), time(17), days=frozenset({1}))

    @pytest.mark.parametrize(
        "call",
        [
            lambda s, t: s.is_open(t),
            lambda s, t: s.period(t),
            lambda s, t: s.period_start(t),
            lambda s, t: s.next_open(t),
            lambda s, t: s.next_close(t),
            lambda s, t: s.needs_reset(utc(2026, 1, 1), t),
            lambda s, t: s.needs_reset(t, utc(2026, 1, 1)),
        ],
    )
    @pytest.mark.parametrize("schedule", [NINE_TO_FIVE, Schedule.non_stop()])
    def test_naive_instants(self, call: object, schedule: Schedule) -> None:
        assert callable(call)
        with pytest.raises(ValueError, match="is naive"):
            call(schedule, datetime(2026, 1, 5, 12))


# Properties ------------------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Asia/Kolkata",
    NEW_YORK,
    LONDON,
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Apia",
]
FIXED_OFFSET_ZONES = ["UTC", "Asia/Kolkata"]
# US, UK, Lord Howe and Chile DST changes in 2026, where bugs would hide.
TRANSITIONS = [
    utc(2026, 3, 8, 7),
    utc(2026, 11, 1, 6),
    utc(2026, 3, 29, 1),
    utc(2026, 10, 25, 1),
    utc(2026, 4, 4, 15),
    utc(2026, 10, 3, 15, 30),
    utc(2026, 4, 5, 3),
    utc(2026, 9, 6, 4),
]

wall_times = st.one_of(
    st.builds(
        time,
        st.integers(0, 23),
        st.sampled_from([0, 10, 30, 59]),
    ),
    st.times(),
)
weekdays = st.integers(1, 7)
holiday_sets = st.frozensets(st.dates(date(2025, 12, 1), date(2027, 2, 1)), max_size=6)


@st.composite
def daily_schedules(draw: st.DrawFn, zones: list[str]) -> Schedule:
    return Schedule.daily(
        draw(wall_times),
        draw(wall_times),
        tz=draw(st.sampled_from(zones)),
        days=draw(st.one_of(st.none(), st.frozensets(weekdays, min_size=1))),
        holidays=draw(holiday_sets),
    )


@st.composite
def weekly_schedules(draw: st.DrawFn, zones: list[str]) -> Schedule:
    start_day, start = draw(weekdays), draw(wall_times)
    end_day, end = draw(weekdays), draw(wall_times)
    if (start_day, start) == (end_day, end):
        end = (datetime.combine(date.min, end) + timedelta(minutes=1)).time()
    return Schedule.weekly(
        start_day, start, end_day, end, tz=draw(st.sampled_from(zones)), holidays=draw(holiday_sets)
    )


schedules = st.one_of(
    daily_schedules(ZONES),
    weekly_schedules(ZONES),
    st.just(Schedule.non_stop()),
    st.just(Schedule.daily(time(17), time(17), tz=NEW_YORK)),
)
instants = st.one_of(
    st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC)),
    st.builds(
        lambda at, minutes: at + timedelta(minutes=minutes),
        st.sampled_from(TRANSITIONS),
        st.integers(-26 * 60, 26 * 60),
    ),
)


@settings(max_examples=400, deadline=None)
@given(schedules, instants)
def test_answers_agree(schedule: Schedule, now: datetime) -> None:
    found = schedule.period(now)
    assert schedule.is_open(now) == (found is not None)
    assert schedule.period_start(now) == (None if found is None else found.start)
    if found is not None:
        assert now in found
        assert found.start.tzinfo is UTC
        assert not schedule.needs_reset(found.start, now)
        if found.end is not None:
            assert found.end.tzinfo is UTC
            assert schedule.period(found.start) == found
            assert schedule.period(found.end - TICK) == found
            assert schedule.needs_reset(found.start - TICK, now)
    else:
        assert not schedule.needs_reset(EPOCH, now)

    next_open = schedule.next_open(now)
    assert next_open is not None
    assert next_open >= now
    assert schedule.is_open(next_open)
    if next_open > now:
        assert not schedule.is_open(now)
        assert not schedule.is_open(next_open - TICK)
        assert not schedule.is_open(now + (next_open - now) / 2)

    next_close = schedule.next_close(now)
    if next_close is None:
        assert schedule.is_open(now)
        assert schedule.is_open(now + timedelta(days=30))
    else:
        assert next_close >= now
        assert not schedule.is_open(next_close)
        if next_close > now:
            assert schedule.is_open(now)
            assert schedule.is_open(next_close - TICK)
            assert schedule.is_open(now + (next_close - now) / 2)


def _oracle_is_open(schedule: Schedule, now: datetime) -> bool:
    """Wall-clock arithmetic, valid only in zones without DST."""
    wall = now.astimezone(ZoneInfo(schedule.timezone)).replace(tzinfo=None)
    for back in range(9):
        day = wall.date() - timedelta(days=back)
        if day.isoweekday() not in schedule.days or day in schedule.holidays:
            continue
        start = datetime.combine(day, schedule.start_time)
        if schedule.end_day is None:
            end = datetime.combine(day, schedule.end_time)
        else:
            ahead = (schedule.end_day - day.isoweekday()) % 7
            end = datetime.combine(day + timedelta(days=ahead), schedule.end_time)
        if end <= start:
            end += timedelta(days=1 if schedule.end_day is None else 7)
        if start <= wall < end:
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(daily_schedules(FIXED_OFFSET_ZONES), weekly_schedules(FIXED_OFFSET_ZONES)), instants
)
def test_matches_wall_clock_arithmetic_without_dst(schedule: Schedule, now: datetime) -> None:
    assert schedule.is_open(now) == _oracle_is_open(schedule, now)


@settings(max_examples=100, deadline=None)
@given(schedules, instants, st.sampled_from(ZONES))
def test_the_zone_of_now_does_not_matter(schedule: Schedule, now: datetime, zone: str) -> None:
    elsewhere = now.astimezone(ZoneInfo(zone))
    assert schedule.period(elsewhere) == schedule.period(now)
    assert schedule.next_open(elsewhere) == schedule.next_open(now)
    assert schedule.next_close(elsewhere) == schedule.next_close(now)
