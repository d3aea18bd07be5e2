"""Pure time rules: when occurrences fall, and how a local time becomes an instant.

A local wall time is resolved as RFC 5545 does (Python's `fold=0`): a time inside a DST gap
takes the offset from before the gap (02:30 on Berlin's spring-forward day is 01:30Z, shown
as 03:30 CEST), and an ambiguous time takes its first occurrence (02:30 on the fall-back day
is 00:30Z). PostgreSQL picks the later instant for ambiguous times, so the set-based
generator is not given time zone names to resolve: it gets, for each (timezone, local date),
the offset before and after that day's transition and the wall time where one gives way to
the other (`LocalDay`), computed here with zoneinfo.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60


def grid_index(*, start_date: date, periodicity_days: int, on: date) -> int | None:
    """Which step (0-based) of the date grid `start_date + k * periodicity_days` falls on
    `on`, or None when none does. Skips stretch a course past `repeat_limit` steps."""
    offset = (on - start_date).days
    if offset < 0 or offset % periodicity_days:
        return None
    return offset // periodicity_days


def occurrence_index(
    *, start_date: date, periodicity_days: int, repeat_limit: int, on: date
) -> int | None:
    """Which of the first `repeat_limit` grid steps falls on `on`, or None when none does
    (the course without a skip)."""
    index = grid_index(start_date=start_date, periodicity_days=periodicity_days, on=on)
    return index if index is not None and index < repeat_limit else None


def resolve_local(on: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall time `at` on `on` in `tz` (gap: offset before; fold: first)."""
    return datetime.combine(on, at, tzinfo=tz).replace(fold=0).astimezone(UTC)


def _offset_minutes(on: date, minute: int, tz: ZoneInfo) -> int:
    wall = datetime.combine(on, time(minute // 60, minute % 60), tzinfo=tz)
    offset = wall.utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


@dataclass(frozen=True)
class LocalDay:
    """How wall times of one local date in one timezone map to UTC.

    A wall time before `switch_minute` (minutes after midnight) uses `offset_before`, the
    rest `offset_after`; on a day without a transition the two are equal and
    `switch_minute` is a full day. Offsets are minutes east of UTC.
    """

    timezone: str
    date: date
    offset_before: int
    switch_minute: int
    offset_after: int

    def resolve(self, at: time) -> datetime:
        minute = at.hour * 60 + at.minute
        offset = self.offset_before if minute < self.switch_minute else self.offset_after
        return datetime.combine(self.date, at, tzinfo=UTC) - timedelta(minutes=offset)


@lru_cache(maxsize=8192)
def local_day(timezone: str, on: date) -> LocalDay:
    tz = ZoneInfo(timezone)
    first = _offset_minutes(on, 0, tz)
    last = _offset_minutes(on, MINUTES_PER_DAY - 1, tz)
    if first == last:
        return LocalDay(timezone, on, first, MINUTES_PER_DAY, first)
    # Binary search for the first wall minute that takes the later offset.
    low, high = 0, MINUTES_PER_DAY - 1
    while low < high:
        middle = (low + high) // 2
        if _offset_minutes(on, middle, tz) == first:
            low = middle + 1
        else:
            high = middle
    return LocalDay(timezone, on, first, low, last)


def current_and_next_day(timezone: str, now: datetime) -> tuple[date, date]:
    today = now.astimezone(ZoneInfo(timezone)).date()
    return today, today + timedelta(days=1)
