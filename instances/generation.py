"""Set-based instance generation: one INSERT ... SELECT ... ON CONFLICT DO NOTHING.

The statement receives the (timezone, local date) pairs to cover as arrays, each with the
offsets of that day (`schedule.LocalDay`), so PostgreSQL never resolves a local time by
itself (it reads ambiguous times differently from SPEC §2). Each row's status is set by the
clock at insert, with the same rule the sweep uses, so a habit created after its time today
is immediately pending or missed.

It follows the course (SPEC §7): `repeat_limit` counts the instances that are not skipped
(nor imported: SPEC §9),
so an occurrence on the date grid is generated only while fewer than `repeat_limit` counted
instances of its habit come before it, and a date a pause covers is born skipped, with the
pause's reason, in the same statement.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction

from habits.models import Habit
from instances.clock import deadlines, status_by_clock, status_by_clock_sql
from instances.localdays import LocalDay, grid_index
from instances.models import HabitInstance, Pause, Source, Status
from instances.reminders import reminder_next

INSERT_SQL = """
WITH days AS (
    SELECT * FROM unnest(%(tz)s::text[], %(date)s::date[], %(before)s::int[],
                         %(switch)s::int[], %(after)s::int[])
        AS d(timezone, local_date, offset_before, switch_minute, offset_after)
),
timed AS (
    SELECT h.id AS habit_id, h.user_id, d.local_date, h.repeat_limit,
           (d.local_date - h.start_date) / h.periodicity_days AS k, s.at AS scheduled_at,
           s.at + make_interval(mins => h.grace_minutes) AS grace_deadline,
           s.at + make_interval(mins => h.grace_minutes + h.fix_minutes) AS fix_deadline,
           -- The earliest reminder offset other than 0 still ahead (instances/reminders.py);
           -- none for the default, offset 0 alone, without unpacking it.
           CASE WHEN h.reminders <> '[0]'::jsonb THEN (
               SELECT min(s.at + make_interval(mins => o::int))
               FROM jsonb_array_elements_text(h.reminders) o
               WHERE o::int <> 0 AND s.at + make_interval(mins => o::int) >= %(now)s
           ) END AS next_reminder_at
    FROM days d
    JOIN accounts_user u ON u.timezone = d.timezone
    JOIN habits_habit h ON h.user_id = u.id
    CROSS JOIN LATERAL (
        SELECT ((d.local_date + h.time_of_day) AT TIME ZONE 'UTC') - make_interval(mins =>
                   CASE WHEN EXTRACT(EPOCH FROM h.time_of_day) < d.switch_minute * 60
                        THEN d.offset_before ELSE d.offset_after END) AS at
    ) s
    WHERE h.is_active
      AND d.local_date >= h.start_date
      AND (d.local_date - h.start_date) %% h.periodicity_days = 0
      -- Never an occurrence over before the habit's plan began or its owner moved
      -- (habits/models.py, accounts/models.py); a plan older than the earliest day's first
      -- instant needs no arithmetic (nearly every one).
      AND (GREATEST(h.planned_from, u.timezone_since) <= %(planned_long_ago)s
           OR s.at + make_interval(mins => h.grace_minutes + h.fix_minutes)
              >= GREATEST(h.planned_from, u.timezone_since))
      {scope}
),
-- The pause covering each paused (habit, date), the lowest id if several: read from the
-- few paused owners, then joined to the candidates by hash.
covers AS (
    SELECT DISTINCT ON (h.id, d.local_date)
           h.id AS habit_id, d.local_date, p.id AS pause_id, p.reason
    FROM instances_pause p
    JOIN accounts_user u ON u.id = p.user_id
    JOIN days d ON d.timezone = u.timezone AND d.local_date BETWEEN p.start_date AND p.end_date
    JOIN habits_habit h ON h.user_id = p.user_id AND (p.habit_id IS NULL OR h.id = p.habit_id)
    WHERE h.is_active {scope}
    ORDER BY h.id, d.local_date, p.id
),
candidates AS (
    SELECT t.*, c.pause_id, c.reason
    FROM timed t
    LEFT JOIN covers c ON c.habit_id = t.habit_id AND c.local_date = t.local_date
    {fresh}
),
-- Grid index k < repeat_limit is always within the course (at most one instance per earlier
-- grid date). Past it, an occurrence is only while fewer than repeat_limit counted (not
-- skipped) instances come before it: those stored, plus those this statement inserts
-- counted on an earlier date of the same habit (new and not paused; once one is out of
-- the course every later one is too, so no more is needed).
stretched AS MATERIALIZED (
    SELECT c.habit_id, c.local_date, c.k, c.repeat_limit,
           c.pause_id IS NULL AND e.id IS NULL AS counted_new
    FROM candidates c
    LEFT JOIN instances_habitinstance e ON e.habit_id = c.habit_id AND e.date = c.local_date
    WHERE c.habit_id IN (SELECT habit_id FROM candidates WHERE k >= repeat_limit)
),
-- The stored counted instances before each date past the plain limit, as one grouped join
-- read before the insert writes (a correlated count per row, planned on an analyzed empty
-- table, scans the heap this very statement is filling: quadratic).
prior AS MATERIALIZED (
    SELECT s.habit_id, s.local_date, count(*) AS n
    FROM stretched s
    JOIN instances_habitinstance i
      ON i.habit_id = s.habit_id AND i.date < s.local_date AND i.status <> 'skipped'
     AND i.source <> 'import'
    WHERE s.k >= s.repeat_limit
    GROUP BY s.habit_id, s.local_date
),
beyond AS (
    SELECT s.habit_id, s.local_date,
           count(*) FILTER (WHERE s.counted_new) OVER (
               PARTITION BY s.habit_id ORDER BY s.local_date
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
           + COALESCE(p.n, 0) AS counted_before
    FROM stretched s
    LEFT JOIN prior p ON p.habit_id = s.habit_id AND p.local_date = s.local_date
)
INSERT INTO instances_habitinstance
    (habit_id, user_id, date, scheduled_at, grace_deadline, fix_deadline, status, skip_reason,
     pause_id, source, next_reminder_at, created_at, updated_at)
SELECT c.habit_id, c.user_id, c.local_date, c.scheduled_at, c.grace_deadline, c.fix_deadline,
       CASE WHEN c.pause_id IS NULL THEN {status} ELSE 'skipped' END, COALESCE(c.reason, ''),
       c.pause_id, '', CASE WHEN c.pause_id IS NULL THEN c.next_reminder_at END,
       %(now)s, %(now)s
FROM candidates c
LEFT JOIN beyond b ON b.habit_id = c.habit_id AND b.local_date = c.local_date
WHERE c.k < c.repeat_limit OR b.counted_before < c.repeat_limit
ON CONFLICT (habit_id, date) DO NOTHING
RETURNING id, user_id, status
""".replace(
    "{status}",
    status_by_clock_sql(
        now="%(now)s", at="c.scheduled_at", grace="c.grace_deadline", fix="c.fix_deadline"
    ),
)
# The first day (a habit created, re-activated or edited): an occurrence whose fix deadline
# has passed is not generated, so the course starts with the next one (SPEC §7).
FRESH_SQL = "WHERE t.fix_deadline >= %(now)s"


@dataclass(frozen=True)
class Scope:
    """Restrict generation to some habits or some users; empty means everyone."""

    habit_ids: Sequence[int] = ()
    user_ids: Sequence[int] = ()

    def sql(self) -> str:
        clauses = []
        if self.habit_ids:
            clauses.append("AND h.id = ANY(%(habit_ids)s)")
        if self.user_ids:
            clauses.append("AND h.user_id = ANY(%(user_ids)s)")
        return " ".join(clauses)


def insert_instances(
    *, days: Iterable[LocalDay], now: datetime, scope: Scope = Scope(), fresh: bool = False
) -> list[tuple[int, int, str]]:
    """Insert every missing instance on `days` within its habit's course, skipped where a
    pause covers it; `fresh`: none whose fix deadline has passed at `now` (the first day).
    Returns (id, user_id, status) of the new rows."""
    days = list(days)
    if not days:
        return []
    params = {
        "tz": [d.timezone for d in days],
        "date": [d.date for d in days],
        "before": [d.offset_before for d in days],
        "switch": [d.switch_minute for d in days],
        "after": [d.offset_after for d in days],
        "now": now,
        "planned_long_ago": _before_any_instant_of(min(d.date for d in days)),
        "habit_ids": list(scope.habit_ids),
        "user_ids": list(scope.user_ids),
    }
    statement = INSERT_SQL.replace("{scope}", scope.sql()).replace(
        "{fresh}", FRESH_SQL if fresh else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def _before_any_instant_of(day: date) -> datetime:
    """An instant before every zone's first instant of `day` (UTC+14 starts it 14 h early)."""
    return datetime.combine(day, time(), UTC) - timedelta(hours=15)


def _covering_pauses(habits: list[Habit], dates: set[date]) -> dict[tuple[int, date], Pause]:
    """The pause covering each paused (habit, date), the lowest id if several."""
    if not habits or not dates:
        return {}
    pauses = Pause.objects.filter(
        user_id__in={h.user_id for h in habits},
        start_date__lte=max(dates),
        end_date__gte=min(dates),
    ).order_by("-id")
    covers = {}
    for pause in pauses:  # highest id first, so the lowest is written last
        for habit in habits:
            if habit.user_id != pause.user_id or pause.habit_id not in (None, habit.pk):
                continue
            for on in dates:
                if pause.start_date <= on <= pause.end_date:
                    covers[habit.pk, on] = pause
    return covers


def insert_instances_portable(
    *, days: Iterable[LocalDay], now: datetime, scope: Scope = Scope(), fresh: bool = False
) -> list[tuple[int, int, str]]:
    """The same rows as `insert_instances`, computed in Python: for databases other than
    PostgreSQL (the newcomer's SQLite), where the data is small."""
    by_timezone: dict[str, list[LocalDay]] = {}
    for day in days:
        by_timezone.setdefault(day.timezone, []).append(day)
    habits = Habit.objects.filter(is_active=True, user__timezone__in=list(by_timezone))
    if scope.habit_ids:
        habits = habits.filter(pk__in=scope.habit_ids)
    if scope.user_ids:
        habits = habits.filter(user_id__in=scope.user_ids)
    habits = list(habits.select_related("user"))
    stored: dict[int, dict[date, str]] = {}
    for habit_id, on, status, source in HabitInstance.objects.filter(habit__in=habits).values_list(
        "habit_id", "date", "status", "source"
    ):
        # Imported history is not part of the course: stored, but never counted.
        stored.setdefault(habit_id, {})[on] = "" if source == Source.IMPORT else status
    covers = _covering_pauses(habits, {d.date for ds in by_timezone.values() for d in ds})
    new = []
    for habit in habits:
        own = stored.get(habit.pk, {})
        counted_new = 0  # inserted counted by this run on an earlier date
        for day in sorted(by_timezone[habit.user.timezone], key=lambda d: d.date):
            k = grid_index(
                start_date=habit.start_date, periodicity_days=habit.periodicity_days, on=day.date
            )
            if k is None:
                continue
            at = day.resolve(habit.time_of_day)
            grace, fix = deadlines(
                at, grace_minutes=habit.grace_minutes, fix_minutes=habit.fix_minutes
            )
            if (fresh and fix < now) or fix < max(habit.planned_from, habit.user.timezone_since):
                continue
            pause = covers.get((habit.pk, day.date))
            if k >= habit.repeat_limit:
                before = sum(
                    1
                    for on, status in own.items()
                    if on < day.date and status not in (Status.SKIPPED, "")
                )
                if before + counted_new >= habit.repeat_limit:
                    continue
            if day.date in own:
                continue
            if pause is None:
                counted_new += 1
            new.append(
                HabitInstance(
                    habit=habit,
                    user_id=habit.user_id,
                    date=day.date,
                    scheduled_at=at,
                    grace_deadline=grace,
                    fix_deadline=fix,
                    status=Status.SKIPPED if pause else status_by_clock(at, grace, fix, now),
                    skip_reason=pause.reason if pause else "",
                    pause=pause,
                    next_reminder_at=None
                    if pause
                    else reminder_next(
                        scheduled_at=at, reminders=habit.reminders, after=now, strict=False
                    ),
                )
            )
    HabitInstance.objects.bulk_create(new, ignore_conflicts=True)
    wanted = {(r.habit_id, r.date) for r in new}
    rows = HabitInstance.objects.filter(
        habit__in={h for h, _ in wanted}, date__in={d for _, d in wanted}
    ).values_list("id", "user_id", "status", "habit_id", "date")
    return [
        (pk, user_id, status)
        for pk, user_id, status, habit_id, on in rows
        if (habit_id, on) in wanted
    ]


def generate(
    *, days: Iterable[LocalDay], now: datetime, scope: Scope = Scope(), fresh: bool = False
) -> list[tuple[int, int, str]]:
    if connection.vendor == "postgresql":
        return insert_instances(days=days, now=now, scope=scope, fresh=fresh)
    # Read what exists, then insert: one transaction, so on SQLite it holds the write lock
    # from its start (IMMEDIATE) rather than upgrading a read lock another writer may block.
    with transaction.atomic():
        return insert_instances_portable(days=days, now=now, scope=scope, fresh=fresh)
