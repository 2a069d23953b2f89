"""Trading hours: when a FIX session may be connected, and when its sequence numbers reset.

A `Schedule` is a pure value. Every question takes the instant it is about (``now``) as an
argument; nothing here reads the clock, sleeps or does I/O (the time zone is loaded once, when
the schedule is built), so the runtime drives it from trio's clock and tests ask about any
instant they like.

Theory of operation. A schedule is a sequence of *periods*, half-open intervals
``[start, end)`` of instants. A daily schedule has at most one period starting on each selected
weekday; a weekly one has one period a week. Period bounds are wall-clock times in the
schedule's time zone, turned into instants for the date they fall on, so a 09:30 open stays
09:30 local time across DST changes:

- a wall time skipped by a spring-forward gap means the first instant after the gap;
- a wall time repeated by a fall-back means its first occurrence (``fold=0``);
- a period whose start and end both fall into one gap is empty, and dropped.

Periods never overlap, but they may touch (a 24-hour daily schedule, start == end): the
schedule then stays open across the boundary, yet a new period, and a sequence reset, begins
there. A holiday removes the period that starts on that date (in the schedule's zone), however
long it lasts. The FIX 4.4 spec (Volume 2, "FIX Session") leaves session times to the
counterparties; this follows QuickFIX's StartTime, EndTime, StartDay, EndDay, Weekdays,
TimeZone and NonStopSession settings (docs/schedules.md maps them).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["ALL_DAYS", "EPOCH", "Period", "Schedule", "ScheduleKind"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Start of a non-stop session's one endless period: no store is older, so none is reset."""

ALL_DAYS: frozenset[int] = frozenset(range(1, 8))
"""Every ISO weekday, 1 = Monday to 7 = Sunday."""

_ONE_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)
# A period holding `now` starts at most 8 local days before now's date (a weekly period lasts
# up to 7 days, plus the hour of a DST change); a ninth covers a local date stepping back.
_LOOKBACK = timedelta(days=9)
# Past the last holiday, every schedule opens within a week, and closes within a week of
# opening unless it never closes (`_round_the_clock`); two weeks leave room for a period
# emptied by a DST gap.
_HORIZON = timedelta(days=16)


class ScheduleKind(enum.Enum):
    """The shape of a schedule."""

    NON_STOP = "non_stop"
    """Always open: one endless period, so sequence numbers never reset."""
    DAILY = "daily"
    """A period starting at the same wall time on each selected weekday."""
    WEEKLY = "weekly"
    """One period a week, from a start weekday and time to an end weekday and time."""


@dataclass(frozen=True, slots=True)
class Period:
    """One session period: the instants ``start <= t < end``, in UTC.

    Attributes:
        start: the first instant of the period; `EPOCH` for a non-stop session.
        end: the first instant after the period; None for a non-stop session.
    """

    start: datetime
    end: datetime | None

    def __contains__(self, instant: datetime) -> bool:
        """Whether an aware instant falls within the period."""
        return self.start <= instant and (self.end is None or instant < self.end)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a FIX session is open. Build one with `non_stop`, `daily` or `weekly`.

    Every method takes aware datetimes (a naive one raises `ValueError`) and answers in UTC.

    Attributes:
        kind: non-stop, daily or weekly.
        start_time: wall time at which each period starts (not for non-stop).
        end_time: wall time at which each period ends; for a daily schedule, an end at or
            before the start falls on the next day (22:00 to 06:00; 17:00 to 17:00 is 24 hours).
        days: ISO weekdays (1 = Monday .. 7 = Sunday) on which a period starts; a weekly
            schedule has exactly one, its start day.
        end_day: for a weekly schedule, the ISO weekday on which the period ends; else None.
        timezone: IANA name of the zone of the wall times and of the holidays.
        holidays: local dates on which no period starts.
    """

    kind: ScheduleKind
    start_time: time = time()
    end_time: time = time()
    days: frozenset[int] = ALL_DAYS
    end_day: int | None = None
    timezone: str = "UTC"
    holidays: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", _load_zone(self.timezone))
        for holiday in self.holidays:
            _check_holiday(holiday)
        if self.kind is ScheduleKind.NON_STOP:
            if self.holidays:
                raise ValueError("a non-stop schedule has no periods for holidays to remove")
            return
        for name, wall in (("start_time", self.start_time), ("end_time", self.end_time)):
            if wall.tzinfo is not None:
                raise ValueError(f"{name} {wall} carries a tzinfo; give the zone as timezone")
        if not self.days:
            raise ValueError("days is empty: the schedule would never open")
        for day in self.days:
            _check_day("days", day)
        if self.kind is ScheduleKind.DAILY:
            if self.end_day is not None:
                raise ValueError(f"end_day {self.end_day!r} is only for a weekly schedule")
            return
        if len(self.days) != 1:
            raise ValueError(f"a weekly schedule starts on one day, not {sorted(self.days)}")
        _check_day("end_day", self.end_day)
        if self.end_day in self.days and self.end_time == self.start_time:
            raise ValueError(
                f"a weekly schedule cannot start and end at the same time "
                f"(day {self.end_day} {self.start_time}): the period would be empty or endless"
            )

    @classmethod
    def non_stop(cls) -> Schedule:
        """A session that is always open and never resets (QuickFIX: NonStopSession=Y)."""
        return cls(ScheduleKind.NON_STOP)

    @classmethod
    def daily(
        cls,
        start: time,
        end: time,
        tz: str = "UTC",
        days: Iterable[int] | None = None,
        holidays: Iterable[date] = (),
    ) -> Schedule:
        """A period from `start` to `end` on each selected day.

        Args:
            start: local wall time at which each period starts.
            end: local wall time at which it ends; at or before `start` means the next day.
            tz: IANA time zone name.
            days: ISO weekdays (1 = Monday .. 7 = Sunday) on which a period *starts*;
                None for every day.
            holidays: local dates on which no period starts.

        Returns:
            The schedule.

        Raises:
            ValueError: an unknown zone, a day outside 1..7, no days, or a time with a tzinfo.
        """
        return cls(
            ScheduleKind.DAILY,
            start_time=start,
            end_time=end,
            days=ALL_DAYS if days is None else frozenset(days),
            timezone=tz,
            holidays=frozenset(holidays),
        )

    @classmethod
    def weekly(
        cls,
        start_day: int,
        start: time,
        end_day: int,
        end: time,
        tz: str = "UTC",
        holidays: Iterable[date] = (),
    ) -> Schedule:
        """One period a week, such as Sunday 17:00 to Friday 17:00 New York time.

        Args:
            start_day: ISO weekday (1 = Monday .. 7 = Sunday) on which the period starts.
            start: local wall time at which it starts.
            end_day: ISO weekday on which it ends; the same day with an `end` before `start`
                means nearly a week later.
            end: local wall time at which it ends.
            tz: IANA time zone name.
            holidays: local dates on which no period starts.

        Returns:
            The schedule.

        Raises:
            ValueError: an unknown zone, a day outside 1..7, a time with a tzinfo, or a
                period that starts and ends at the same day and time.
        """
        return cls(
            ScheduleKind.WEEKLY,
            start_time=start,
            end_time=end,
            days=frozenset({start_day}),
            end_day=end_day,
            timezone=tz,
            holidays=frozenset(holidays),
        )

    def is_open(self, now: datetime) -> bool:
        """Whether the session may be connected at `now`."""
        return self.period(now) is not None

    def period(self, now: datetime) -> Period | None:
        """The period containing `now`, or None when the schedule is closed."""
        now = _utc(now, "now")
        if self.kind is ScheduleKind.NON_STOP:
            return Period(EPOCH, None)
        start, end = self._first_ending_after(now)
        return Period(start, end) if start <= now else None

    def period_start(self, now: datetime) -> datetime | None:
        """Start of the period containing `now` (`EPOCH` for non-stop); None when closed."""
        period = self.period(now)
        return None if period is None else period.start

    def needs_reset(self, creation_time: datetime, now: datetime) -> bool:
        """Whether a store created at `creation_time` belongs to an earlier period.

        Sequence numbers reset at the start of each period: when the schedule is open at
        `now` and the store was created before the current period started, the runtime
        resets the store. When closed there is nothing to decide until the next period;
        a non-stop session never resets.

        Args:
            creation_time: the store's creation time (aware).
            now: the current instant (aware).

        Returns:
            True if the store must be reset before the session logs on.
        """
        creation_time = _utc(creation_time, "creation_time")
        start = self.period_start(now)
        if start is None or self.kind is ScheduleKind.NON_STOP:
            return False
        return creation_time < start

    def next_open(self, now: datetime) -> datetime | None:
        """The earliest instant at or after `now` at which the schedule is open.

        That is `now` itself when open (always, for non-stop); else the next period's start.
        None would mean the schedule never opens again, which no schedule built here does
        (holidays are finite); callers may still treat None as "stay closed".
        """
        now = _utc(now, "now")
        if self.kind is ScheduleKind.NON_STOP:
            return now
        start, _ = self._first_ending_after(now)
        return max(start, now)

    def next_close(self, now: datetime) -> datetime | None:
        """The earliest instant at or after `now` at which the schedule is closed.

        That is `now` itself when closed. When open it is the end of the current period,
        or of the last of a run of touching periods (a 24-hour schedule is open across a
        period boundary). None if the schedule never closes from `now` on: non-stop, or a
        24-hour daily schedule on every weekday with no holiday ahead.
        """
        now = _utc(now, "now")
        if self.kind is ScheduleKind.NON_STOP or self._round_the_clock(now):
            return None
        close: datetime | None = None
        for start, end in self._periods(now):
            if end <= now:
                continue
            if close is None and start > now:
                return now
            if close is not None and start > close:
                return close
            close = end
        raise AssertionError("unreachable: the schedule closes by the horizon")  # pragma: no cover

    def _round_the_clock(self, now: datetime) -> bool:
        """Whether periods follow each other without a gap forever after `now`."""
        today = now.astimezone(self._zone).date()
        return (
            self.kind is ScheduleKind.DAILY
            and self.days == ALL_DAYS
            and self.start_time == self.end_time
            and all(holiday < today for holiday in self.holidays)
        )

    def _first_ending_after(self, now: datetime) -> tuple[datetime, datetime]:
        """The first period that ends after `now`: it contains `now` or is the next one."""
        for start, end in self._periods(now):
            if end > now:
                return start, end
        raise AssertionError("unreachable: the schedule opens by the horizon")  # pragma: no cover

    def _periods(self, now: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Yield, in order, the non-empty periods from shortly before `now` to the horizon."""
        today = now.astimezone(self._zone).date()
        day = today - _LOOKBACK
        last = max(today, max(self.holidays, default=today)) + _HORIZON
        while day <= last:
            if day.isoweekday() in self.days and day not in self.holidays:
                start = _instant(day, self.start_time, self._zone)
                end_date = day + timedelta(days=self._span(day.isoweekday()))
                end = _instant(end_date, self.end_time, self._zone)
                if start < end:
                    yield start, end
            day += _ONE_DAY

    def _span(self, weekday: int) -> int:
        """Days from the date a period starts on to the date it ends on."""
        if self.end_day is None:  # daily
            return 0 if self.end_time > self.start_time else 1
        span = (self.end_day - weekday) % 7
        return 7 if span == 0 and self.end_time < self.start_time else span


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant at which the wall clock in `zone` shows `wall` on `day`.

    A wall time skipped by a gap gives the first instant after the gap (the transition);
    one shown twice gives its first occurrence.
    """
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the first occurrence
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first
    # In a gap the two folds read the wall time with the offsets from either side of the
    # transition, which lies between the two results: search for it. Before it the wall
    # clock shows less than `naive`, from it on more.
    other = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = min(first, other), max(first, other)
    while high - low > _TICK:
        middle = low + (high - low) // 2
        if middle.astimezone(zone).replace(tzinfo=None) > naive:
            high = middle
        else:
            low = middle
    return high


def _utc(instant: datetime, name: str) -> datetime:
    if instant.utcoffset() is None:
        raise ValueError(f"{name} {instant} is naive; pass an aware datetime")
    return instant.astimezone(UTC)


def _load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _check_day(name: str, day: object) -> None:
    if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 7:
        raise ValueError(f"{name}: {day!r} is not an ISO weekday (1 = Monday .. 7 = Sunday)")


def _check_holiday(holiday: object) -> None:
    if isinstance(holiday, datetime) or not isinstance(holiday, date):
        raise ValueError(f"holiday {holiday!r} is not a date")
