"""What the feed shows (SPEC §9): the owner's occurrences from 14 days back to 30 days ahead.

A stored instance is what happened or is planned for its (habit, date), and wins. From now
on, the habit rule fills in what generation has not written yet (it writes today and
tomorrow): the date grid from `start_date`, active habits only, within the course (skips and
pauses stretch it, as generation does), at the times the clock gives. A skipped day, stored or
covered by a pause, is not shown (docs/DECISIONS.md). At most five queries whatever the
number of habits: the feed and its owner, the habits, the window's instances, the counted
instances before today of the habits whose course may end in the window, the pauses.
"""

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count

from accounts.models import User
from calendars.models import CalendarFeed
from calendars.services import secret_hash
from habits.models import Habit
from instances.clock import deadlines
from instances.localdays import current_and_next_day, grid_index, local_day
from instances.models import DONE_STATUSES, HabitInstance, Pause, Status
from instances.program import IN_COURSE, in_course

DAYS_BACK = 14
DAYS_AHEAD = 30


@dataclass(frozen=True)
class Occurrence:
    """One event of the feed: a habit on a local date of its owner."""

    habit_id: int
    date: date
    action: str
    place: str
    start: datetime
    end: datetime  # the grace deadline
    done: bool


def feed_owner(secret: str) -> User | None:
    """The active owner of the feed with this secret, or None (unknown or revoked)."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(secret_hash=secret_hash(secret), user__is_active=True)
        .first()
    )
    return feed.user if feed else None


def window(today: date) -> tuple[date, date]:
    """The first and last local date the feed covers, both included."""
    return today - timedelta(days=DAYS_BACK), today + timedelta(days=DAYS_AHEAD)


def local_today(user: User, now: datetime) -> date:
    today, _ = current_and_next_day(user.timezone, now)
    return today


def occurrences_for(*, user: User, today: date, now: datetime) -> list[Occurrence]:
    """The owner's occurrences in the window around `today` (their local date at `now`), by
    start."""
    first, last = window(today)
    habits = {h.pk: h for h in Habit.objects.filter(user=user).order_by()}
    stored: dict[int, dict[date, HabitInstance]] = defaultdict(dict)
    for row in HabitInstance.objects.filter(user=user, date__range=(first, last)).only(
        "habit_id", "date", "status", "source", "scheduled_at", "grace_deadline"
    ):
        stored[row.habit_id][row.date] = row
    shown = [
        _stored(habits[row.habit_id], row)
        for rows in stored.values()
        for row in rows.values()
        if row.status != Status.SKIPPED
    ]
    active = [h for h in habits.values() if h.is_active and h.start_date <= last]
    if active:
        counted = _counted_before(
            habit_ids=[h.pk for h in active if _may_end(h, last)], today=today
        )
        pauses = list(
            Pause.objects.filter(user=user, end_date__gte=today, start_date__lte=last).order_by()
        )
        for habit in active:
            shown += _planned(
                habit,
                stored=stored.get(habit.pk, {}),
                counted_before_today=counted.get(habit.pk, 0),
                pauses=[p for p in pauses if p.habit_id in (None, habit.pk)],
                timezone=user.timezone,
                today=today,
                last=last,
                now=now,
            )
    return sorted(shown, key=lambda o: (o.start, o.habit_id))


def _may_end(habit: Habit, last: date) -> bool:
    """Whether the habit's course may end by `last`: only then do its counted instances
    matter (grid step k < repeat_limit is in the course whatever came before)."""
    steps = (last - habit.start_date).days // habit.periodicity_days
    return steps >= habit.repeat_limit


def _counted_before(*, habit_ids: list[int], today: date) -> dict[int, int]:
    """Per habit, its instances before today that count in the course (`IN_COURSE`)."""
    if not habit_ids:
        return {}
    rows = (
        HabitInstance.objects.filter(IN_COURSE, habit_id__in=habit_ids, date__lt=today)
        .values("habit_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["habit_id"]: row["n"] for row in rows}


def _stored(habit: Habit, row: HabitInstance) -> Occurrence:
    return Occurrence(
        habit_id=habit.pk,
        date=row.date,
        action=habit.action,
        place=habit.place,
        start=row.scheduled_at,
        end=row.grace_deadline,
        done=row.status in DONE_STATUSES,
    )


def _planned(
    habit: Habit,
    *,
    stored: dict[date, HabitInstance],
    counted_before_today: int,
    pauses: list[Pause],
    timezone: str,
    today: date,
    last: date,
    now: datetime,
) -> list[Occurrence]:
    """The habit's occurrences from today to `last` that no instance stands for yet.

    The course as generation has it (instances/generation.py): grid step k < repeat_limit is
    always in it; past that, only while fewer than repeat_limit counted occurrences come
    before. One whose fix deadline has passed is not shown: generation will not write it."""
    ahead = sorted(d for d, row in stored.items() if d >= today and in_course(row))
    planned: list[Occurrence] = []
    on = _first_grid_date(habit, today)
    while on <= last:
        k = grid_index(start_date=habit.start_date, periodicity_days=habit.periodicity_days, on=on)
        assert k is not None  # stepping along the grid
        before = counted_before_today + bisect_left(ahead, on) + len(planned)
        if k >= habit.repeat_limit and before >= habit.repeat_limit:
            break  # the course is over: every later step is out of it too
        if on not in stored and not any(p.start_date <= on <= p.end_date for p in pauses):
            at = local_day(timezone, on).resolve(habit.time_of_day)
            grace, fix = deadlines(
                at, grace_minutes=habit.grace_minutes, fix_minutes=habit.fix_minutes
            )
            if fix >= now:
                planned.append(
                    Occurrence(habit.pk, on, habit.action, habit.place, at, grace, done=False)
                )
        on += timedelta(days=habit.periodicity_days)
    return planned


def _first_grid_date(habit: Habit, today: date) -> date:
    """The first date of the habit's grid on or after today."""
    if habit.start_date >= today:
        return habit.start_date
    behind = (today - habit.start_date).days % habit.periodicity_days
    return today + timedelta(days=(habit.periodicity_days - behind) % habit.periodicity_days)
