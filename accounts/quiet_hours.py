"""Quiet hours (SPEC §8): a daily span of the owner's local wall-clock time, `start` to `end`
(it may wrap midnight), in which reminders wait. Pure functions of times and zones."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def quiet_contains(start: time, end: time, wall: time) -> bool:
    """Whether the wall-clock time `wall` is inside `start`..`end` (start included, end not)."""
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end  # wraps midnight (22:00-07:00)


def _instants_at(day: date, wall: time, zone: ZoneInfo) -> list[datetime]:
    """The instants at which the wall clock of `zone` first reads `wall` or later on `day`:
    one; two when a clock put back reads it twice; the jump itself when it skips it."""
    naive = datetime.combine(day, wall)
    early = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    late = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if early == late:
        return [early]
    if early.astimezone(zone).replace(tzinfo=None) == naive:
        return sorted([early, late])  # read twice (the clock goes back)
    # Skipped (the clock jumps forward over it): fold=1 maps it before the jump and fold=0
    # after it; the first instant of the new offset between them is when the clock passes it.
    low, high = int(min(early, late).timestamp()), int(max(early, late).timestamp())
    before = datetime.fromtimestamp(low, UTC).astimezone(zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return [datetime.fromtimestamp(high, UTC)]


def quiet_hours_end(*, start: time, end: time, timezone_name: str, at: datetime) -> datetime | None:
    """None when `at` is outside the quiet hours in `timezone_name`; else the instant they
    end: the first one after `at` at which the local clock reads `end` (DST-correct)."""
    zone = ZoneInfo(timezone_name)
    local = at.astimezone(zone)
    if not quiet_contains(start, end, local.time().replace(tzinfo=None)):
        return None
    candidates = [
        instant
        for day in (local.date(), local.date() + timedelta(days=1))
        for instant in _instants_at(day, end, zone)
        if instant > at
    ]
    return min(candidates)


def hhmm(value: time) -> str:
    return value.strftime("%H:%M")
