"""Set-based instance generation: one INSERT ... SELECT ... ON CONFLICT DO NOTHING.

The statement receives the (timezone, local date) pairs to cover as arrays, each with the
offsets of that day (`schedule.LocalDay`), so PostgreSQL never resolves a local time by
itself (it reads ambiguous times differently from SPEC §2). Each row's status is set by the
clock at insert, with the same rule the sweep uses, so a habit created after its time today
is immediately pending or missed.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from instances.clock import deadlines, status_by_clock, status_by_clock_sql
from instances.localdays import LocalDay, occurrence_index

INSERT_SQL = """
WITH days AS (
    SELECT * FROM unnest(%(tz)s::text[], %(date)s::date[], %(before)s::int[],
                         %(switch)s::int[], %(after)s::int[])
        AS d(timezone, local_date, offset_before, switch_minute, offset_after)
),
candidates AS (
    SELECT h.id AS habit_id, h.user_id, d.local_date, h.grace_minutes, h.fix_minutes,
           ((d.local_date + h.time_of_day) AT TIME ZONE 'UTC') - make_interval(mins =>
               CASE WHEN EXTRACT(EPOCH FROM h.time_of_day) < d.switch_minute * 60
                    THEN d.offset_before ELSE d.offset_after END) AS scheduled_at
    FROM days d
    JOIN accounts_user u ON u.timezone = d.timezone
    JOIN habits_habit h ON h.user_id = u.id
    WHERE h.is_active
      AND d.local_date >= h.start_date
      AND (d.local_date - h.start_date) %% h.periodicity_days = 0
      AND (d.local_date - h.start_date) / h.periodicity_days < h.repeat_limit
      {scope}
),
timed AS (
    SELECT habit_id, user_id, local_date, scheduled_at,
           scheduled_at + make_interval(mins => grace_minutes) AS grace_deadline,
           scheduled_at + make_interval(mins => grace_minutes + fix_minutes) AS fix_deadline
    FROM candidates
)
INSERT INTO instances_habitinstance
    (habit_id, user_id, date, scheduled_at, grace_deadline, fix_deadline, status, source,
     created_at, updated_at)
SELECT habit_id, user_id, local_date, scheduled_at, grace_deadline, fix_deadline,
       {status}, '', %(now)s, %(now)s
FROM timed
ON CONFLICT (habit_id, date) DO NOTHING
RETURNING id, user_id, status
""".replace(
    "{status}",
    status_by_clock_sql(
        now="%(now)s", at="scheduled_at", grace="grace_deadline", fix="fix_deadline"
    ),
)


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
    *, days: Iterable[LocalDay], now: datetime, scope: Scope = Scope()
) -> list[tuple[int, int, str]]:
    """Insert every missing instance on `days`; returns (id, user_id, status) of new rows."""
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
        "habit_ids": list(scope.habit_ids),
        "user_ids": list(scope.user_ids),
    }
    with connection.cursor() as cursor:
        cursor.execute(INSERT_SQL.replace("{scope}", scope.sql()), params)
        return cursor.fetchall()


def insert_instances_portable(
    *, days: Iterable[LocalDay], now: datetime, scope: Scope = Scope()
) -> list[tuple[int, int, str]]:
    """The same rows as `insert_instances`, computed in Python: for databases other than
    PostgreSQL (the newcomer's SQLite), where the data is small."""
    from habits.models import Habit
    from instances.models import HabitInstance

    by_timezone: dict[str, list[LocalDay]] = {}
    for day in days:
        by_timezone.setdefault(day.timezone, []).append(day)
    habits = Habit.objects.filter(is_active=True, user__timezone__in=list(by_timezone))
    if scope.habit_ids:
        habits = habits.filter(pk__in=scope.habit_ids)
    if scope.user_ids:
        habits = habits.filter(user_id__in=scope.user_ids)
    rows = []
    for habit in habits.select_related("user"):
        for day in by_timezone[habit.user.timezone]:
            if (
                occurrence_index(
                    start_date=habit.start_date,
                    periodicity_days=habit.periodicity_days,
                    repeat_limit=habit.repeat_limit,
                    on=day.date,
                )
                is None
            ):
                continue
            at = day.resolve(habit.time_of_day)
            grace, fix = deadlines(
                at, grace_minutes=habit.grace_minutes, fix_minutes=habit.fix_minutes
            )
            rows.append(
                HabitInstance(
                    habit=habit,
                    user_id=habit.user_id,
                    date=day.date,
                    scheduled_at=at,
                    grace_deadline=grace,
                    fix_deadline=fix,
                    status=status_by_clock(at, grace, fix, now),
                )
            )
    existing = set(
        HabitInstance.objects.filter(
            habit__in={r.habit_id for r in rows}, date__in={r.date for r in rows}
        ).values_list("habit_id", "date")
    )
    new = [r for r in rows if (r.habit_id, r.date) not in existing]
    HabitInstance.objects.bulk_create(new, ignore_conflicts=True)
    wanted = {(r.habit_id, r.date) for r in new}
    stored = HabitInstance.objects.filter(
        habit__in={h for h, _ in wanted}, date__in={d for _, d in wanted}
    ).values_list("id", "user_id", "status", "habit_id", "date")
    return [
        (pk, user_id, status)
        for pk, user_id, status, habit_id, on in stored
        if (habit_id, on) in wanted
    ]


def generate(
    *, days: Iterable[LocalDay], now: datetime, scope: Scope = Scope()
) -> list[tuple[int, int, str]]:
    if connection.vendor == "postgresql":
        return insert_instances(days=days, now=now, scope=scope)
    # Read what exists, then insert: one transaction, so on SQLite it holds the write lock
    # from its start (IMMEDIATE) rather than upgrading a read lock another writer may block.
    with transaction.atomic():
        return insert_instances_portable(days=days, now=now, scope=scope)
