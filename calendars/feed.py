"""The feed as RFC 5545 (SPEC §9), built with icalendar's components, never by formatting.

One VTIMEZONE for the owner's zone, made by icalendar from the zoneinfo zone; one VEVENT per
occurrence with DTSTART;TZID= at the local time and DTEND at the grace deadline (DURATION
when that wall time comes twice); no VALARM (the reminders are Telegram's).
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vDuration

from calendars.selectors import Occurrence

# Not a host name: the UID must not change when the server moves or is reached by
# another address (RFC 5545 §3.8.4.7 asks only that it be globally unique).
UID_DOMAIN = "atomic-habits.calendar"
PRODID = "-//Atomic Habits Tracker//Calendar feed//EN"
DONE_MARK = "✓ "
# How often a client should come back for changes (RFC 7986 and the Outlook/Apple name).
REFRESH = timedelta(hours=1)


def uid(habit_id: int, on: date) -> str:
    """The same (habit, date) is the same event in every fetch, stored or only planned."""
    return f"habit-{habit_id}-{on:%Y%m%d}@{UID_DOMAIN}"


def summary(occurrence: Occurrence) -> str:
    text = occurrence.action
    if occurrence.place:
        text = f"{text} @ {occurrence.place}"
    return DONE_MARK + text if occurrence.done else text


@lru_cache(maxsize=256)
def _vtimezone(zone: str, first_year: int, last_year: int) -> bytes:
    """The zone's VTIMEZONE over these years, as icalendar writes it (worth keeping: it
    walks the zone's transitions). Kept as bytes, so no caller can change a shared one."""
    return Timezone.from_tzinfo(
        ZoneInfo(zone), first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    ).to_ical()


def vtimezone(zone: str, first: date, last: date) -> Timezone:
    """Whole years around the window: the same component all year (one cache entry), and a
    client that keeps an event a while still has its zone's rules."""
    return Timezone.from_ical(_vtimezone(zone, first.year, last.year + 1))


def feed_ical(
    *, occurrences: Iterable[Occurrence], zone: str, first: date, last: date, now: datetime
) -> bytes:
    """The whole VCALENDAR of these occurrences, local times in `zone`."""
    tz = ZoneInfo(zone)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", "Habits")
    calendar.add("x-wr-calname", "Habits")
    calendar.add("x-wr-timezone", zone)
    calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    calendar.add_component(vtimezone(zone, first, last))
    for occurrence in occurrences:
        calendar.add_component(_event(occurrence, tz, now))
    return calendar.to_ical()


def _read_back(local: datetime) -> datetime:
    """The instant a client reads from this wall time and zone: the first of a repeated
    one (RFC 5545 §3.3.5)."""
    return local.replace(fold=0).astimezone(UTC)


def _event(occurrence: Occurrence, tz: ZoneInfo, now: datetime) -> Event:
    event = Event()
    event.add("uid", uid(occurrence.habit_id, occurrence.date))
    event.add("dtstamp", now)
    event.add("dtstart", occurrence.start.astimezone(tz))
    end = occurrence.end.astimezone(tz)
    if _read_back(end) == occurrence.end.astimezone(UTC):
        event.add("dtend", end)
    else:
        # The end's wall time comes twice (a clock turned back): RFC 5545 reads it as the
        # first, which may be before the start. Its length cannot be misread.
        event.add("duration", occurrence.end - occurrence.start)
    event.add("summary", summary(occurrence))
    if occurrence.place:
        event.add("location", occurrence.place)
    # Free: a habit should not make the person look busy to whoever books their time.
    event.add("transp", "TRANSPARENT")
    return event
