"""SPEC §6 stats for habits: counts, rates, streaks, weekly buckets and a strength score.

Computed for many habits at once in two queries whatever their number (a sweep refreshes
the stats of every habit it touched without a query per habit): one grouped count by
status and local weekday, one window query for streaks and the score. Databases other than
PostgreSQL (the newcomer's SQLite) get streaks and score from the same rules in Python.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count
from django.db.models.functions import ExtractIsoWeekDay

from instances.models import DONE_STATUSES, HabitInstance, Status

FAILED_STATUSES = (Status.MISSED, Status.FIX_EXPIRED)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SCORE_VALUE = {Status.COMPLETED: 1.0, Status.COMPLETED_LATE: 0.5}  # failed: 0
# 0.948 ** 8000 (a daily habit, the fastest decay) ~ 1e-186: older occurrences weigh nothing
MAX_SCORED_AGE = 8000


def score_multiplier(periodicity_days: int) -> float:
    """Loop's habit-strength decay: a daily habit halves the weight of the past every 13 days."""
    return 0.5 ** (math.sqrt(1 / periodicity_days) / 13)


# --- the rules, on a sequence of resolved statuses in date order ----------------------------


def streaks(resolved: Sequence[str]) -> tuple[int, int]:
    """(current, max) runs of done instances; current ends at the newest resolved one."""
    current = longest = 0
    for status in resolved:
        current = current + 1 if status in DONE_STATUSES else 0
        longest = max(longest, current)
    return current, longest


def strength(resolved: Sequence[str], periodicity_days: int) -> float:
    """score = prev*m + v*(1-m) over the resolved occurrences, starting from 0."""
    m = score_multiplier(periodicity_days)
    score = 0.0
    for status in resolved:
        score = score * m + SCORE_VALUE.get(status, 0.0) * (1 - m)
    return score


# --- SQL -------------------------------------------------------------------------------------

STREAK_AND_SCORE_SQL = """
WITH resolved AS (
    SELECT i.habit_id, i.status, h.periodicity_days,
           i.status IN ('completed', 'completed_late') AS done,
           SUM(CASE WHEN i.status IN ('completed', 'completed_late') THEN 0 ELSE 1 END)
               OVER (PARTITION BY i.habit_id ORDER BY i.date, i.id) AS fails_before,
           ROW_NUMBER() OVER (PARTITION BY i.habit_id ORDER BY i.date DESC, i.id DESC) AS age
    FROM instances_habitinstance i
    JOIN habits_habit h ON h.id = i.habit_id
    WHERE i.habit_id = ANY(%(ids)s)
      AND i.status IN ('completed', 'completed_late', 'missed', 'fix_expired')
),
runs AS (
    -- a run is the done instances after the n-th failure; the newest run is the current one
    SELECT habit_id, fails_before, COUNT(*) FILTER (WHERE done) AS run
    FROM resolved GROUP BY habit_id, fails_before
),
streaks AS (
    SELECT habit_id, MAX(run) AS longest, (ARRAY_AGG(run ORDER BY fails_before DESC))[1] AS current
    FROM runs GROUP BY habit_id
),
scores AS (
    -- the moving average unrolled: the newest occurrence weighs (1-m), each older one m times
    -- less. In float8, not numeric (numeric POWER cost ~15 ms for a year of history); float8
    -- raises on underflow, so occurrences older than MAX_SCORED_AGE (weight < 1e-180) count 0
    SELECT habit_id,
           SUM(CASE WHEN age > %(max_age)s THEN 0 ELSE
                   CASE status WHEN 'completed' THEN 1 WHEN 'completed_late' THEN 0.5 ELSE 0 END
                   * POWER(m, age - 1) END) * (1 - MIN(m)) AS score
    FROM (SELECT r.*, POWER(0.5::float8, SQRT(1.0::float8 / r.periodicity_days) / 13) AS m
          FROM resolved r) weighted
    GROUP BY habit_id
)
SELECT s.habit_id, s.current, s.longest, sc.score
FROM streaks s JOIN scores sc USING (habit_id)
"""


@dataclass
class _Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(Status.values, 0))
    weekly: dict[int, list[int]] = field(default_factory=lambda: {d: [0, 0] for d in range(1, 8)})


def _tallies(ids: Sequence[int]) -> dict[int, _Tally]:
    tallies: dict[int, _Tally] = defaultdict(_Tally)
    rows = (
        HabitInstance.objects.filter(habit_id__in=ids)
        .annotate(weekday=ExtractIsoWeekDay("date"))
        .values_list("habit_id", "status", "weekday")
        .annotate(n=Count("id"))
        .order_by()
    )
    for habit_id, status, weekday, n in rows:
        tally = tallies[habit_id]
        tally.counts[status] += n
        if status in DONE_STATUSES:
            tally.weekly[weekday][0] += n
        elif status in FAILED_STATUSES:
            tally.weekly[weekday][1] += n
    return tallies


def _streaks_and_scores(ids: Sequence[int]) -> dict[int, tuple[int, int, float]]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(STREAK_AND_SCORE_SQL, {"ids": list(ids), "max_age": MAX_SCORED_AGE})
            return {hid: (cur, longest, score) for hid, cur, longest, score in cursor.fetchall()}
    sequences: dict[int, list[str]] = defaultdict(list)
    periodicity: dict[int, int] = {}
    resolved = (
        HabitInstance.objects.filter(
            habit_id__in=ids, status__in=[*DONE_STATUSES, *FAILED_STATUSES]
        )
        .order_by("habit_id", "date", "id")
        .values_list("habit_id", "status", "habit__periodicity_days")
    )
    for habit_id, status, days in resolved:
        sequences[habit_id].append(status)
        periodicity[habit_id] = days
    return {hid: (*streaks(seq), strength(seq, periodicity[hid])) for hid, seq in sequences.items()}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _assemble(habit_id: int, tally: _Tally, streak: tuple[int, int, float] | None) -> dict:
    counts = tally.counts
    done = counts[Status.COMPLETED] + counts[Status.COMPLETED_LATE]
    failed = counts[Status.MISSED] + counts[Status.FIX_EXPIRED]
    current, longest, score = streak or (0, 0, 0.0)
    return {
        "habit_id": habit_id,
        "counts": counts,
        "done": done,
        "failed": failed,
        "success_rate": _rate(done, done + failed),
        "on_time_rate": _rate(counts[Status.COMPLETED], done),
        "streak": {"current": current, "max": longest},
        "weekly": [
            {"weekday": name, "done": tally.weekly[n][0], "failed": tally.weekly[n][1]}
            for n, name in enumerate(WEEKDAYS, start=1)
        ],
        "score": round(score, 4),
    }


def habit_stats_many(habit_ids: Iterable[int]) -> dict[int, dict]:
    """Fresh stats for each habit, in two queries whatever their number."""
    ids = sorted(set(habit_ids))
    if not ids:
        return {}
    tallies = _tallies(ids)
    streaks_by_habit = _streaks_and_scores(ids)
    return {hid: _assemble(hid, tallies[hid], streaks_by_habit.get(hid)) for hid in ids}


def habit_stats(habit_id: int) -> dict:
    return habit_stats_many([habit_id])[habit_id]
